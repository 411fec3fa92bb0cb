import type {Role, TokenInfo} from '../../operator-contract/views.ts'
import type {Store} from './store.ts'

/** SQL for operator tokens (table `operator_tokens`). The secret never reaches the store, only its hash. */

export interface TokenRecord extends TokenInfo {
  tokenHash: string
}

interface Row {
  name: string
  role: Role
  scope: string | null
  token_hash: string
  created_at: string
  created_by: string
  expires_at: string | null
  revoked_at: string | null
  last_used_at: string | null
}

const toRecord = (r: Row): TokenRecord => ({
  name: r.name, role: r.role, scope: r.scope, tokenHash: r.token_hash, createdAt: r.created_at, createdBy: r.created_by,
  expiresAt: r.expires_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at,
})

export function insertToken(store: Store, t: TokenRecord) {
  store.db.query(`INSERT INTO operator_tokens (name, role, scope, token_hash, created_at, created_by, expires_at, revoked_at, last_used_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(t.name, t.role, t.scope, t.tokenHash, t.createdAt, t.createdBy, t.expiresAt, t.revokedAt, t.lastUsedAt)
}

export function getToken(store: Store, name: string): TokenRecord | null {
  const row = store.db.query('SELECT * FROM operator_tokens WHERE name = ?').get(name) as Row | null
  return row ? toRecord(row) : null
}

export function getTokenByHash(store: Store, tokenHash: string): TokenRecord | null {
  const row = store.db.query('SELECT * FROM operator_tokens WHERE token_hash = ?').get(tokenHash) as Row | null
  return row ? toRecord(row) : null
}

export function listTokens(store: Store): TokenRecord[] {
  return (store.db.query('SELECT * FROM operator_tokens ORDER BY created_at, name').all() as Row[]).map(toRecord)
}

export function setTokenHash(store: Store, name: string, tokenHash: string) {
  store.db.query('UPDATE operator_tokens SET token_hash = ? WHERE name = ?').run(tokenHash, name)
}

export function revokeToken(store: Store, name: string, at: string) {
  store.db.query('UPDATE operator_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(at, name)
}

export function touchToken(store: Store, name: string, at: string) {
  store.db.query('UPDATE operator_tokens SET last_used_at = ? WHERE name = ?').run(at, name)
}
