import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderRolloutHistory} from '../../src/cli/fleet/rollout-render.ts'
import {rolloutHistory} from '../../src/client/rollouts.ts'

export default class RolloutHistory extends BaseCommand {
  static override summary = "List a rollout's revisions: number, time, actor, version, values and target"
  static override description = 'Every change to a rollout (version, profile, values, target) is a numbered revision kept with who made it and when. Values are shown with secret-looking names (password, token, key, …) redacted, and as a digest: equal values, equal digest. margo rollout undo goes back to one.'
  static override examples = ['<%= config.bin %> rollout history com-northstartida-hello-world']
  static override args = {name: Args.string({description: 'Rollout name (or id; see: margo rollout list)', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(RolloutHistory)
    this.emit(flags, await rolloutHistory(this.client(flags), args.name), renderRolloutHistory)
  }
}
