import type {Store} from './store.ts'

/** SQL for the audit log (table `audit_log`). Rows are only ever inserted; nothing here updates or deletes. */

export interface AuditRow {
  seq: number
  at: string
  actor: string
  action: string
  target: string
  /** JSON text, as hashed. */
  summary: string
  requestId: string | null
  prevHash: string
  hash: string
}

interface Row {
  seq: number
  at: string
  actor: string
  action: string
  target: string
  summary: string
  request_id: string | null
  prev_hash: string
  hash: string
}

const toRow = (r: Row): AuditRow => ({
  seq: r.seq, at: r.at, actor: r.actor, action: r.action, target: r.target, summary: r.summary,
  requestId: r.request_id, prevHash: r.prev_hash, hash: r.hash,
})

export function lastAuditRow(store: Store): AuditRow | null {
  const row = store.db.query('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1').get() as Row | null
  return row ? toRow(row) : null
}

export function insertAuditRow(store: Store, r: AuditRow) {
  store.db.query('INSERT INTO audit_log (seq, at, actor, action, target, summary, request_id, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run(r.seq, r.at, r.actor, r.action, r.target, r.summary, r.requestId, r.prevHash, r.hash)
}

export interface AuditFilter {
  since?: string
  actor?: string
  target?: string
  limit?: number
}

export function listAuditRows(store: Store, filter: AuditFilter = {}): AuditRow[] {
  const where: string[] = []
  const args: (string | number)[] = []
  if (filter.since) { where.push('at >= ?'); args.push(filter.since) }
  if (filter.actor) { where.push('actor = ?'); args.push(filter.actor) }
  if (filter.target) { where.push('target = ?'); args.push(filter.target) }
  const limit = filter.limit ? ` LIMIT ${Math.floor(filter.limit)}` : ''
  const sql = `SELECT * FROM audit_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq${limit}`
  return (store.db.query(sql).all(...args) as Row[]).map(toRow)
}

/** Every row in chain order, streamed: a verifier never holds the whole log. */
export function* allAuditRows(store: Store): Generator<AuditRow> {
  for (const row of store.db.query('SELECT * FROM audit_log ORDER BY seq').iterate() as Iterable<Row>) yield toRow(row)
}
