import {Flags} from '@oclif/core'
import {statusReport} from '../src/client/fleet.ts'
import {BaseCommand} from '../src/cli/base-command.ts'
import {renderStatus, statusJson} from '../src/cli/render/status.ts'

export default class Status extends BaseCommand {
  static override summary = 'Show the fleet: devices by enrollment and deployments by state'
  static override description =
    'Summarises devices (active, pending, revoked) and deployments by reported state, then lists every deployment with the state its device last reported. With --device, lists only that device\'s deployments.'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --device 3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c', '<%= config.bin %> status --json']
  static override flags = {device: Flags.string({char: 'd', summary: 'Only this device (client id).'})}

  async run(): Promise<void> {
    const {flags} = await this.parse(Status)
    const report = await statusReport(this.client(flags), flags.device ? {clientId: flags.device} : {})
    this.emit(flags, report, renderStatus, statusJson)
  }
}
