import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {UsageError} from '../../src/util/errors.ts'
import {deny, listDenied, undeny} from '../../src/client/denylist.ts'

export default class DeviceDeny extends BaseCommand {
  static override summary = 'Refuse a device certificate at onboarding (and revoke a device already using it)'
  static override description = 'The deny-list is checked before a submitted certificate is even parsed. Give a certificate file to deny its fingerprint, or a value (a sha256: fingerprint, or any literal string a device might submit). --list shows the entries, --remove takes one off.'
  static override examples = [
    '<%= config.bin %> device deny ./stolen-device.pem',
    '<%= config.bin %> device deny sha256:0f1e…',
    '<%= config.bin %> device deny --list',
    '<%= config.bin %> device deny --remove sha256:0f1e…',
  ]
  static override args = {target: Args.string({description: 'Certificate file, sha256: fingerprint or literal value'})}
  static override flags = {
    list: Flags.boolean({description: 'List the deny-list entries'}),
    remove: Flags.boolean({description: 'Remove the entry instead of adding it'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DeviceDeny)
    const client = this.client(flags)
    if (flags.list) {
      const entries = await listDenied(client)
      this.emit(flags, entries, list => list.map(e => `${e.value}\t${e.createdAt}`).join('\n'))
      return
    }
    if (!args.target) throw new UsageError('give a certificate file, a fingerprint or a value — or --list')
    if (flags.remove) {
      const removed = await undeny(client, args.target)
      this.emit(flags, removed, r => `removed ${r.value} from the deny-list`)
      return
    }
    const added = await deny(client, args.target)
    this.emit(flags, added, r => `denied ${r.value}${r.revokedClientId ? ` (device ${r.revokedClientId} revoked)` : ''}`)
  }
}
