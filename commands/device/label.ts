import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderLabels} from '../../src/cli/fleet/render.ts'
import {labelDevice} from '../../src/client/rollouts.ts'

export default class DeviceLabel extends BaseCommand {
  static override summary = "Set or remove a device's labels"
  static override description =
    "KEY=VALUE sets a label, KEY- removes it; other labels stay as they are. Keys are [prefix/]name (name at most 63 characters), values at most 63 characters of letters, digits, '-', '_' and '.', as in Kubernetes. Rollouts with a label selector re-evaluate the device at once: it gains or loses their deployments."
  static override examples = [
    '<%= config.bin %> device label 3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c site=plant-7 line=2',
    '<%= config.bin %> device label 3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c line-',
  ]
  static override strict = false
  static override args = {
    clientId: Args.string({description: 'Client id of the device, or a unique prefix of at least 4 characters (see: margo device list)', required: true}),
    labels: Args.string({description: 'KEY=VALUE to set, KEY- to remove (several allowed)'}),
  }

  async run(): Promise<void> {
    const {args, argv, flags} = await this.parse(DeviceLabel)
    const labels = (argv as string[]).slice(1)
    const device = await labelDevice(this.client(flags), args.clientId, labels)
    this.emit(flags, device, renderLabels)
  }
}
