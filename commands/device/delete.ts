import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {deleteDevice} from '../../src/client/lifecycle.ts'
import {renderEnrollmentChange} from '../../src/cli/render/devices.ts'

export default class DeviceDelete extends BaseCommand {
  static override summary = 'Decommission a device: revoked, its deployments leave the fleet view, kept as a tombstone'
  static override description =
    'The device is revoked at once (its next signed request gets 403), its deployments are removed and recorded as removed-unconfirmed, its labels cleared, and it leaves margo device list and margo status. It is kept as a tombstone (margo device list --all) so its certificate cannot onboard again — unless --allow-reonboard, which may also be given later on the tombstone.'
  static override examples = ['<%= config.bin %> device delete 3f0c2a9e', '<%= config.bin %> device delete 3f0c2a9e --allow-reonboard']
  static override args = {clientId: Args.string({description: 'Client id of the device, or a unique prefix of at least 4 characters', required: true})}
  static override flags = {
    'allow-reonboard': Flags.boolean({summary: 'Let the certificate onboard again later (same client id, enrolled like a new device).'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DeviceDelete)
    this.emit(flags, await deleteDevice(this.client(flags), args.clientId, {allowReonboard: flags['allow-reonboard']}), renderEnrollmentChange)
  }
}
