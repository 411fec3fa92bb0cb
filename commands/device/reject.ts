import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {rejectDevice} from '../../src/client/lifecycle.ts'
import {renderEnrollmentChange} from '../../src/cli/render/devices.ts'

export default class DeviceReject extends BaseCommand {
  static override summary = 'Reject a pending device: its certificate cannot onboard again'
  static override description =
    'For a device waiting for approval that should never join. It is kept as a record (margo device list --all) so that its certificate is refused if it tries again; margo device delete --allow-reonboard lifts that.'
  static override examples = ['<%= config.bin %> device reject 3f0c2a9e']
  static override args = {clientId: Args.string({description: 'Client id of the pending device, or a unique prefix of at least 4 characters', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DeviceReject)
    this.emit(flags, await rejectDevice(this.client(flags), args.clientId), renderEnrollmentChange)
  }
}
