import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {listAudit} from '../../src/client/access.ts'
import {renderAuditList} from '../../src/cli/render/access.ts'

export default class AuditList extends BaseCommand {
  static override summary = 'Show who changed what: the audit log, oldest first'
  static override description =
    'Every change made through the operator API, every enrollment decision and every automatic action of the server, with its actor (a token name or "system"), action, target and request id. Parameter values are stored only as hashes.'
  static override examples = [
    '<%= config.bin %> audit list --since 24h',
    '<%= config.bin %> audit list --actor contractor --json',
    '<%= config.bin %> audit list --target rollout:3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c',
  ]
  static override flags = {
    since: Flags.string({summary: 'Only entries at or after a time (2025-06-03T00:00:00Z) or within a duration (24h, 7d).'}),
    actor: Flags.string({summary: 'Only entries of this token name (or "system").'}),
    target: Flags.string({summary: 'Only entries about this target, e.g. device:ID, rollout:ID, token:NAME.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(AuditList)
    const entries = await listAudit(this.client(flags), {since: flags.since, actor: flags.actor, target: flags.target})
    this.emit(flags, entries, renderAuditList)
  }
}
