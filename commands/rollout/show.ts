import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderRolloutDetail} from '../../src/cli/fleet/rollout-render.ts'
import {getRollout} from '../../src/client/rollouts.ts'

export default class RolloutShow extends BaseCommand {
  static override summary = 'Show one rollout: its current revision, deployments and the devices it skips'
  static override description = 'Shows the rollout\'s intent (app, version, profile, values, target), each deployment with its reported state, and the devices in scope that have none, with the reason (e.g. another rollout of the app already runs there).'
  static override examples = ['<%= config.bin %> rollout show com-northstartida-hello-world', '<%= config.bin %> rollout show canary --json']
  static override args = {name: Args.string({description: 'Rollout name (or id; see: margo rollout list)', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(RolloutShow)
    this.emit(flags, await getRollout(this.client(flags), args.name), renderRolloutDetail)
  }
}
