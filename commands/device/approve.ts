import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderApprovals} from '../../src/cli/render/enrollment.ts'
import {approveDevices} from '../../src/client/enrollment.ts'

export default class DeviceApprove extends BaseCommand {
  static override summary = 'Approve pending devices so they may receive deployments'
  static override description =
    "Moves devices from pending to active. A newly onboarded device waits in pending until an operator approves it (unless a join token admitted it); until then its requests for desired state are refused. Each approved device is shown with its certificate fingerprint: compare it with the one `margo agent status` prints on the device. --json prints the device, or an array when several are approved or with --all-pending."
  static override examples = [
    '<%= config.bin %> device approve 3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c',
    '<%= config.bin %> device approve 3f0c 8b21 c7d4',
    "<%= config.bin %> device approve --all-pending --selector 'site=plant-7'",
  ]
  static override strict = false
  static override args = {clientId: Args.string({description: 'Client id of a device, or a unique prefix of at least 4 characters (see: margo device list); several allowed'})}
  static override flags = {
    'all-pending': Flags.boolean({summary: 'Approve every pending device (those --selector matches, when given).'}),
    selector: Flags.string({summary: 'With --all-pending: only pending devices whose labels match, e.g. "site=plant-7".'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(DeviceApprove)
    const clientIds = argv as string[]
    const approved = await approveDevices(this.client(flags), {clientIds, allPending: flags['all-pending'], ...(flags.selector !== undefined ? {selector: flags.selector} : {})})
    const single = clientIds.length === 1 && !flags['all-pending']
    this.emit(flags, approved, renderApprovals, d => (single ? d[0] : d))
  }
}
