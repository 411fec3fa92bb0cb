import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderEnrollmentChange} from '../../src/cli/render/devices.ts'

export default class DeviceRevoke extends BaseCommand {
  static override summary = 'Revoke a device: its signed requests are refused from now on'
  static override description =
    'Marks a device revoked. The fleet manager then answers its signed requests with 403, so it no longer receives desired state or reports status. Its deployments stay recorded.'
  static override examples = ['<%= config.bin %> device revoke 3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c']
  static override args = {clientId: Args.string({description: 'Client id of the device, or a unique prefix of at least 4 characters (see: margo device list)', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DeviceRevoke)
    const device = await this.client(flags).revokeDevice(args.clientId)
    this.emit(flags, device, renderEnrollmentChange)
  }
}
