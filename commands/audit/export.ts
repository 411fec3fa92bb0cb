import {BaseCommand} from '../../src/cli/base-command.ts'
import {listAudit} from '../../src/client/access.ts'

export default class AuditExport extends BaseCommand {
  static override summary = 'Print the whole audit log as JSON lines, for a SIEM'
  static override description = 'One JSON object per line, oldest first, with the hash chain fields so the receiver can verify it too.'
  static override examples = ['<%= config.bin %> audit export > audit.jsonl']

  async run(): Promise<void> {
    const {flags} = await this.parse(AuditExport)
    for (const entry of await listAudit(this.client(flags))) process.stdout.write(JSON.stringify(entry) + '\n')
  }
}
