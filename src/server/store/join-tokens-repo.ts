import type {JoinTokenInfo} from '../../operator-contract/views.ts'
import type {Store} from './store.ts'

/** SQL for join tokens (table `join_tokens`). The secret never reaches the store, only its hash. */

export interface JoinTokenRecord extends JoinTokenInfo {
  tokenHash: string
}

interface Row {
  id: string
  token_hash: string
  labels_json: string
  scope: string | null
  max_uses: number
  uses: number
  created_at: string
  created_by: string
  expires_at: string
  revoked_at: string | null
  last_used_at: string | null
}

function labelsOf(text: string): Record<string, string> {
  try {
    const v = JSON.parse(text) as unknown
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(x => typeof x === 'string')) return v as Record<string, string>
  } catch { /* an unreadable row grants no labels */ }
  return {}
}

const toRecord = (r: Row): JoinTokenRecord => ({
  id: r.id, tokenHash: r.token_hash, labels: labelsOf(r.labels_json), scope: r.scope, maxUses: r.max_uses, uses: r.uses,
  createdAt: r.created_at, createdBy: r.created_by, expiresAt: r.expires_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at,
})

export function insertJoinToken(store: Store, t: JoinTokenRecord) {
  store.db.query(`INSERT INTO join_tokens (id, token_hash, labels_json, scope, max_uses, uses, created_at, created_by, expires_at, revoked_at, last_used_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(t.id, t.tokenHash, JSON.stringify(t.labels), t.scope, t.maxUses, t.uses, t.createdAt, t.createdBy, t.expiresAt, t.revokedAt, t.lastUsedAt)
}

export function getJoinToken(store: Store, id: string): JoinTokenRecord | null {
  const row = store.db.query('SELECT * FROM join_tokens WHERE id = ?').get(id) as Row | null
  return row ? toRecord(row) : null
}

export function getJoinTokenByHash(store: Store, tokenHash: string): JoinTokenRecord | null {
  const row = store.db.query('SELECT * FROM join_tokens WHERE token_hash = ?').get(tokenHash) as Row | null
  return row ? toRecord(row) : null
}

export function listJoinTokens(store: Store): JoinTokenRecord[] {
  return (store.db.query('SELECT * FROM join_tokens ORDER BY created_at, id').all() as Row[]).map(toRecord)
}

export function revokeJoinToken(store: Store, id: string, at: string) {
  store.db.query('UPDATE join_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id)
}

export function countJoinTokenUse(store: Store, id: string, at: string) {
  store.db.query('UPDATE join_tokens SET uses = uses + 1, last_used_at = ? WHERE id = ?').run(at, id)
}
