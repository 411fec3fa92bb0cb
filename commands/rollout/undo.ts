import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderRolloutResult} from '../../src/cli/fleet/render.ts'
import {undoRollout} from '../../src/client/rollouts.ts'
import {UsageError} from '../../src/util/errors.ts'

export default class RolloutUndo extends BaseCommand {
  static override summary = 'Go back to an earlier revision of a rollout'
  static override description = 'Makes a new revision equal to revision --to-revision (default: the one before the current) and rolls it out like any change: each device keeps its deployment id and is updated in place. Values that the app version no longer accepts are reported before anything changes. --dry-run shows what would change.'
  static override examples = ['<%= config.bin %> rollout undo com-northstartida-hello-world', '<%= config.bin %> rollout undo canary --to-revision 2 --dry-run']
  static override args = {name: Args.string({description: 'Rollout name (or id; see: margo rollout list)', required: true})}
  static override flags = {
    'to-revision': Flags.string({summary: 'The revision to go back to (see: margo rollout history); default: the previous one.'}),
    'dry-run': Flags.boolean({summary: 'Show which devices would change and how; change nothing.'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(RolloutUndo)
    const raw = flags['to-revision']
    const to = raw === undefined ? undefined : Number(raw)
    if (to !== undefined && (!Number.isInteger(to) || to < 1)) throw new UsageError(`--to-revision ${JSON.stringify(raw)} is not a revision number — see: margo rollout history ${args.name}`)
    const result = await undoRollout(this.client(flags), args.name, {...(to !== undefined ? {toRevision: to} : {}), ...(flags['dry-run'] ? {dryRun: true} : {})})
    this.emit(flags, result, renderRolloutResult)
  }
}
