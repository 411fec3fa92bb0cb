import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../src/cli/base-command.ts'
import {renderUndeploy} from '../src/cli/fleet/render.ts'
import {undeploy} from '../src/client/rollouts.ts'

export default class Undeploy extends BaseCommand {
  static override summary = 'Remove a rollout (by name) or one deployment from the fleet'
  static override description = [
    'Given a rollout name (or id), deletes the rollout and removes its deployment from every device it reached; it lists what is being removed. Nothing else is created or restored. Devices remove the application at their next sync and report removing, then removed; follow it with margo status.',
    "Given a deployment id of a rollout that lists its devices, takes that device off the rollout's list (a new revision; the last device removes the rollout). A device a selector covers leaves by a label or selector change instead.",
    '--forget also records removals no device has confirmed as removed-unconfirmed and drops them from the fleet view: for devices that will never report again. It works on a rollout already undeployed too.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> undeploy com-northstartida-hello-world',
    '<%= config.bin %> undeploy canary --forget',
    '<%= config.bin %> undeploy a3e2f5dc-8b7e-4c53-9d2b-1f0e3c4d5a6b --json',
  ]
  static override args = {id: Args.string({description: 'Rollout name or id (see: margo rollout list), or deployment id (see: margo status); a unique prefix of at least 4 characters will do', required: true})}
  static override flags = {
    forget: Flags.boolean({summary: 'Record removals the devices never confirmed as removed-unconfirmed (devices that will not report again).'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Undeploy)
    const result = await undeploy(this.client(flags), args.id, {forget: flags.forget})
    this.emit(flags, result, renderUndeploy, r => (r.kind === 'deployment' ? r.deployment : r))
  }
}
