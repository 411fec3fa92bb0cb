import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderProgress} from '../../src/cli/fleet/waves-render.ts'
import {controlRollout} from '../../src/client/rollouts.ts'

export default class RolloutResume extends BaseCommand {
  static override summary = 'Resume a paused staged rollout (its failures so far are accepted), or start the next wave of a --manual one'
  static override description = 'Works on rollouts deployed with --wave or --strategy-file. The change is an event on the stream (rollout.progress) and an audit entry with your token name; margo rollout show NAME, margo status and the TUI show where the rollout stands.'
  static override examples = ['<%= config.bin %> rollout resume com-northstartida-hello-world']
  static override args = {name: Args.string({description: 'Rollout name (or id; see: margo rollout list)', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(RolloutResume)
    const progress = await controlRollout(this.client(flags), args.name, 'resume')
    this.emit(flags, progress, (p, ctx) => renderProgress(args.name, p, ctx, {limit: 10}))
  }
}
