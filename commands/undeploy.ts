import {Args} from '@oclif/core'
import {BaseCommand} from '../src/cli/base-command.ts'
import {renderUndeploy} from '../src/cli/fleet/render.ts'
import {undeploy} from '../src/client/rollouts.ts'

export default class Undeploy extends BaseCommand {
  static override summary = 'Remove a rollout or a single deployment from the fleet'
  static override description =
    'Given a rollout id (printed by margo deploy), deletes the rollout and removes its deployment from every device it reached; a device another rollout of the same app still covers gets that one instead. Given a deployment id, removes that one deployment. Devices remove the application at their next sync and report removing, then removed; follow it with margo status.'
  static override examples = [
    '<%= config.bin %> undeploy 5d1c7e0a-2f4b-4c8e-9a61-7b3e2d1f0c9a',
    '<%= config.bin %> undeploy a3e2f5dc-8b7e-4c53-9d2b-1f0e3c4d5a6b --json',
  ]
  static override args = {id: Args.string({description: 'Rollout id (from margo deploy) or deployment id (see: margo status); a unique prefix of at least 4 characters will do', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Undeploy)
    const result = await undeploy(this.client(flags), args.id)
    this.emit(flags, result, renderUndeploy, r => (r.kind === 'deployment' ? r.deployment : r))
  }
}
