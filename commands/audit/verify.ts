import {BaseCommand} from '../../src/cli/base-command.ts'
import {verifyAudit} from '../../src/client/access.ts'
import {renderAuditVerification} from '../../src/cli/render/access.ts'

export default class AuditVerify extends BaseCommand {
  static override summary = 'Check the audit log hash chain; exit 1 naming the first broken entry'
  static override description =
    'Each entry carries the SHA-256 of the one before it. An entry edited, deleted or reordered in the database breaks the chain there; this names the first such entry and exits 1. Removing the newest entries cannot be seen from the log alone: keep the printed head hash elsewhere and compare.'
  static override examples = ['<%= config.bin %> audit verify']

  async run(): Promise<void> {
    const {flags} = await this.parse(AuditVerify)
    const result = await verifyAudit(this.client(flags))
    this.emit(flags, result, v => renderAuditVerification(v))
    if (!result.ok) this.exit(1)
  }
}
