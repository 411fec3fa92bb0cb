import {Flags} from '@oclif/core'
import {MargoCommand} from '../../src/cli/margo-command.ts'
import {defaultAgentStateDir} from '../../src/config/paths.ts'
import {UsageError} from '../../src/util/errors.ts'
import {parseDuration} from '../../src/util/duration.ts'

export default class AgentStatus extends MargoCommand {
  static override summary = 'Show what the device agent knows: clientId, server, last sync, manifest version, deployments'
  static override description = `Reads the agent's state directory only, so it works whether the agent is running or not, and without network.

--healthy prints one line and exits 0 when the agent is onboarded and polled the fleet manager successfully within --max-age, 1 otherwise: the health check of the agent's container image.`
  static override examples = [
    '<%= config.bin %> agent status',
    '<%= config.bin %> agent status --state-dir /var/lib/margo-agent --json',
    '<%= config.bin %> agent status --healthy --max-age 30m',
  ]
  static override flags = {
    'state-dir': Flags.string({description: 'The agent state directory', env: 'MARGO_AGENT_STATE_DIR'}),
    json: Flags.boolean({description: 'Print one JSON document'}),
    healthy: Flags.boolean({description: 'Exit 0 when the last successful poll is recent, 1 otherwise (one line of why)'}),
    'max-age': Flags.string({description: 'With --healthy: how old the last successful poll may be (e.g. 900, 15m; default 15m)', env: 'MARGO_AGENT_HEALTHY_MAX_AGE'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(AgentStatus)
    const {agentHealth, readAgentStatus, renderAgentStatus} = await import('../../src/agent/status-view.ts')
    const status = readAgentStatus(flags['state-dir'] ?? defaultAgentStateDir())
    if (flags.healthy) {
      const health = agentHealth(status, new Date(), flags['max-age'] === undefined ? undefined : maxAgeMs(flags['max-age']))
      process.stdout.write(flags.json ? JSON.stringify(health) + '\n' : `${health.healthy ? 'healthy' : 'unhealthy'}: ${health.reason}\n`)
      if (!health.healthy) this.exit(1)
      return
    }
    process.stdout.write((flags.json ? JSON.stringify(status, null, 2) : renderAgentStatus(status)) + '\n')
  }
}

function maxAgeMs(value: string): number {
  let ms = 0
  try {
    ms = parseDuration(value)
  } catch {
    ms = 0
  }
  if (ms > 0) return ms
  throw new UsageError(`--max-age ${value} is not a positive duration — give seconds (900) or e.g. 15m, 1h`)
}
