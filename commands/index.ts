import {ACCESS_COMMANDS} from './_access.ts'
import {BACKUP_COMMANDS} from './_backup.ts'
import {CONFORMANCE_AGENT_COMMANDS} from './_conformance-agent.ts'
import {CONFORMANCE_WFM_COMMANDS} from './_conformance-wfm.ts'
import {FLEET_COMMANDS} from './_fleet.ts'
import {REGISTRY_COMMANDS} from './_registry.ts'
import {SECRET_COMMANDS} from './_secrets.ts'
import {LIFECYCLE_COMMANDS} from './_lifecycle.ts'
import {TUI_COMMANDS} from './_tui.ts'
import {WATCH_COMMANDS} from './_watch.ts'
import {WAVE_COMMANDS} from './_waves.ts'
import Agent from './agent.ts'
import AgentStatus from './agent/status.ts'
import AppList from './app/list.ts'
import AppPublish from './app/publish.ts'
import AppShow from './app/show.ts'
import DbMigrate from './db/migrate.ts'
import DeviceApprove from './device/approve.ts'
import DeviceDeny from './device/deny.ts'
import DeviceEnrollCommand from './device/enroll-command.ts'
import JoinTokenCreate from './device/join-token/create.ts'
import JoinTokenList from './device/join-token/list.ts'
import JoinTokenRevoke from './device/join-token/revoke.ts'
import DeviceList from './device/list.ts'
import DeviceRevoke from './device/revoke.ts'
import DeviceShow from './device/show.ts'
import Login from './login.ts'
import RolloutHistory from './rollout/history.ts'
import RolloutList from './rollout/list.ts'
import RolloutShow from './rollout/show.ts'
import RolloutUndo from './rollout/undo.ts'
import Serve from './serve.ts'
import Simulate from './simulate.ts'

export const COMMANDS = {
  serve: Serve,
  agent: Agent,
  'agent:status': AgentStatus,
  'device:list': DeviceList,
  'device:show': DeviceShow,
  'device:approve': DeviceApprove,
  'device:revoke': DeviceRevoke,
  'device:deny': DeviceDeny,
  'device:enroll-command': DeviceEnrollCommand,
  'device:join-token:create': JoinTokenCreate,
  'device:join-token:list': JoinTokenList,
  'device:join-token:revoke': JoinTokenRevoke,
  'app:publish': AppPublish,
  'app:list': AppList,
  'app:show': AppShow,
  login: Login,
  simulate: Simulate,
  'rollout:list': RolloutList,
  'rollout:show': RolloutShow,
  'rollout:history': RolloutHistory,
  'rollout:undo': RolloutUndo,
  'db:migrate': DbMigrate,
  ...FLEET_COMMANDS,
  ...REGISTRY_COMMANDS,
  ...ACCESS_COMMANDS,
  ...SECRET_COMMANDS,
  ...LIFECYCLE_COMMANDS,
  ...WATCH_COMMANDS,
  ...WAVE_COMMANDS,
  ...TUI_COMMANDS,
  ...BACKUP_COMMANDS,
  ...CONFORMANCE_WFM_COMMANDS,
  ...CONFORMANCE_AGENT_COMMANDS,
}
export default COMMANDS
