import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../src/cli/base-command.ts'
import {renderCreatedJoinToken} from '../../../src/cli/render/enrollment.ts'
import {createJoinToken} from '../../../src/client/enrollment.ts'

export default class JoinTokenCreate extends BaseCommand {
  static override summary = 'Create a join token: devices that present it are active at once, with its labels'
  static override description =
    "A device presents the token (margo agent --join-token, or MARGO_JOIN_TOKEN) together with the fingerprint of the certificate it is about to onboard with, before it onboards; that preauthorises exactly that certificate, and the device's onboarding is then accepted as active, with the token's labels. The token is printed once (the server keeps only its SHA-256), expires (24h unless --expires), and admits --uses distinct devices (1 unless told). Each use is in the audit log."
  static override examples = [
    '<%= config.bin %> device join-token create --labels site=plant-7 --labels line=2',
    '<%= config.bin %> device join-token create --labels site=plant-7 --uses 20 --expires 7d',
    'MARGO_JOIN_TOKEN=$(<%= config.bin %> device join-token create --labels site=plant-7) margo agent --server https://wfm:8443 --ca-fingerprint sha256:…',
  ]
  static override flags = {
    labels: Flags.string({summary: 'Label given to each device the token admits, as key=value; repeatable.', multiple: true}),
    uses: Flags.integer({summary: 'How many distinct devices the token may admit.', default: 1, min: 1}),
    expires: Flags.string({summary: 'Lifetime such as 30m, 24h or 7d.', default: '24h'}),
    scope: Flags.string({summary: "Label selector the admitted devices' labels must match (a scoped admin's own scope by default)."}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(JoinTokenCreate)
    const created = await createJoinToken(this.client(flags), {labels: flags.labels, uses: flags.uses, expires: flags.expires, ...(flags.scope !== undefined ? {scope: flags.scope} : {})})
    this.emit(flags, created, renderCreatedJoinToken)
  }
}
