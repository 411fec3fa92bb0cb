import Agent from './agent.ts'
import AgentStatus from './agent/status.ts'
import AppList from './app/list.ts'
import AppPublish from './app/publish.ts'
import AppShow from './app/show.ts'
import Deploy from './deploy.ts'
import DeviceApprove from './device/approve.ts'
import DeviceList from './device/list.ts'
import DeviceRevoke from './device/revoke.ts'
import DeviceShow from './device/show.ts'
import Login from './login.ts'
import Serve from './serve.ts'
import Status from './status.ts'
import Undeploy from './undeploy.ts'

export const COMMANDS = {
  serve: Serve,
  agent: Agent,
  'agent:status': AgentStatus,
  'device:list': DeviceList,
  'device:show': DeviceShow,
  'device:approve': DeviceApprove,
  'device:revoke': DeviceRevoke,
  'app:publish': AppPublish,
  'app:list': AppList,
  'app:show': AppShow,
  deploy: Deploy,
  undeploy: Undeploy,
  status: Status,
  login: Login,
}
export default COMMANDS
