import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderDeviceList} from '../../src/cli/render/devices.ts'
import {pendingFirst} from '../../src/client/enrollment.ts'

export default class DeviceList extends BaseCommand {
  static override summary = 'List devices with their enrollment and when they were last seen'
  static override description =
    'Shows every device that has onboarded to the fleet manager: its client id, enrollment state (pending, active, revoked), the device id it reported in its capabilities, labels, last contact and when its certificate expires (notAfter). Pending devices come first: they wait for approval. Rejected, deleted and replaced devices are kept as tombstones and listed with --all.'
  static override flags = {
    all: Flags.boolean({summary: 'Also list tombstones: rejected, deleted and replaced devices.'}),
  }
  static override examples = ['<%= config.bin %> device list', '<%= config.bin %> device list --json | jq -r \'.[] | select(.enrollment == "pending") | .clientId\'']

  async run(): Promise<void> {
    const {flags} = await this.parse(DeviceList)
    // Pending devices wait for someone: they come first.
    const devices = pendingFirst(await this.client(flags).listDevices({all: flags.all}))
    this.emit(flags, devices, renderDeviceList)
  }
}
