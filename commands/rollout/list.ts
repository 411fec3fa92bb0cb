import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderRolloutList} from '../../src/cli/fleet/rollout-render.ts'
import {listRollouts} from '../../src/client/rollouts.ts'

export default class RolloutList extends BaseCommand {
  static override summary = 'List rollouts: name, app, revision, deployments and target'
  static override description = 'A rollout is the intent for one app (version, profile, values, and a device list or live selector), named like a helm release. margo deploy creates or updates it; every change is a numbered revision.'
  static override examples = ['<%= config.bin %> rollout list', '<%= config.bin %> rollout list --app com-northstartida-hello-world --json']
  static override flags = {app: Flags.string({summary: 'Only rollouts of this app id.'})}

  async run(): Promise<void> {
    const {flags} = await this.parse(RolloutList)
    const rollouts = await listRollouts(this.client(flags), flags.app ? {appId: flags.app} : {})
    this.emit(flags, rollouts, renderRolloutList)
  }
}
