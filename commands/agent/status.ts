import {Flags} from '@oclif/core'
import {MargoCommand} from '../../src/cli/margo-command.ts'
import {defaultAgentStateDir} from '../../src/config/paths.ts'

export default class AgentStatus extends MargoCommand {
  static override summary = 'Show what the device agent knows: clientId, server, last sync, manifest version, deployments'
  static override description = 'Reads the agent\'s state directory only, so it works whether the agent is running or not, and without network.'
  static override examples = ['<%= config.bin %> agent status', '<%= config.bin %> agent status --state-dir /var/lib/margo-agent --json']
  static override flags = {
    'state-dir': Flags.string({description: 'The agent state directory', env: 'MARGO_AGENT_STATE_DIR'}),
    json: Flags.boolean({description: 'Print one JSON document'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(AgentStatus)
    const {readAgentStatus, renderAgentStatus} = await import('../../src/agent/status-view.ts')
    const status = readAgentStatus(flags['state-dir'] ?? defaultAgentStateDir())
    process.stdout.write((flags.json ? JSON.stringify(status, null, 2) : renderAgentStatus(status)) + '\n')
  }

}
