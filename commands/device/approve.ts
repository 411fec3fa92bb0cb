import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderEnrollmentChange} from '../../src/cli/render/devices.ts'

export default class DeviceApprove extends BaseCommand {
  static override summary = 'Approve a pending device so it may receive deployments'
  static override description =
    'Moves a device from pending to active. Under --enrollment approve, a newly onboarded device waits in pending until an operator approves it; until then its requests for desired state are refused.'
  static override examples = ['<%= config.bin %> device approve 3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c']
  static override args = {clientId: Args.string({description: 'Client id of the device, or a unique prefix of at least 4 characters (see: margo device list)', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DeviceApprove)
    const device = await this.client(flags).approveDevice(args.clientId)
    this.emit(flags, device, renderEnrollmentChange)
  }
}
