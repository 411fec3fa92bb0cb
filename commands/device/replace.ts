import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {replaceDevice} from '../../src/client/lifecycle.ts'
import {renderReplacement} from '../../src/cli/render/devices.ts'

export default class DeviceReplace extends BaseCommand {
  static override summary = 'Swap hardware: NEW takes over OLD\'s labels and rollouts, OLD is revoked'
  static override description =
    'NEW gets OLD\'s labels (so selector rollouts follow it) and its place in every rollout that lists OLD (a new revision of each); a pending NEW is approved. OLD is revoked and kept as a tombstone, its deployments leave the fleet view. Nothing is changed when a rollout cannot take NEW (for example another rollout of the app already runs on it).'
  static override examples = ['<%= config.bin %> device replace 3f0c2a9e 8d41b7c0']
  static override args = {
    old: Args.string({description: 'Client id (or unique prefix) of the device being replaced', required: true}),
    new: Args.string({description: 'Client id (or unique prefix) of the onboarded replacement', required: true}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DeviceReplace)
    this.emit(flags, await replaceDevice(this.client(flags), args.old, args.new), renderReplacement)
  }
}
