import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderDevice} from '../../src/cli/render/devices.ts'

export default class DeviceShow extends BaseCommand {
  static override summary = 'Show one device: enrollment, certificate, capabilities, labels and deployments'
  static override description =
    'Shows what the fleet manager knows about a device: its enrollment and certificate, when it onboarded and was last seen, the capabilities it reported, its labels, and the deployments assigned to it with their reported state.'
  static override examples = ['<%= config.bin %> device show 3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c', '<%= config.bin %> device show 3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c --json']
  static override args = {clientId: Args.string({description: 'Client id of the device, or a unique prefix of at least 4 characters (see: margo device list)', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DeviceShow)
    const device = await this.client(flags).getDevice(args.clientId)
    this.emit(flags, device, renderDevice)
  }
}
