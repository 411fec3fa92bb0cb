import type {Store} from './store.ts'

/** SQL for secrets (table `secrets`): sealed bytes only; sealing and opening are src/server/secrets/. */

export interface SecretRow {
  name: string
  nonce: Uint8Array
  sealed: Uint8Array
  createdAt: string
  updatedAt: string
  updatedBy: string
}

interface Row {
  name: string
  nonce: Uint8Array
  sealed: Uint8Array
  created_at: string
  updated_at: string
  updated_by: string
}

const bytes = (v: unknown) => (v instanceof Uint8Array ? v : new Uint8Array(v as ArrayBuffer))
const toRow = (r: Row): SecretRow => ({name: r.name, nonce: bytes(r.nonce), sealed: bytes(r.sealed), createdAt: r.created_at, updatedAt: r.updated_at, updatedBy: r.updated_by})

export function getSecretRow(store: Store, name: string): SecretRow | null {
  const r = store.db.query('SELECT * FROM secrets WHERE name = ?').get(name) as Row | null
  return r ? toRow(r) : null
}

export function listSecretRows(store: Store): SecretRow[] {
  return (store.db.query('SELECT * FROM secrets ORDER BY name').all() as Row[]).map(toRow)
}

/** Inserts or replaces the value; the first creation time is kept. */
export function putSecretRow(store: Store, s: Omit<SecretRow, 'createdAt'>) {
  store.db.query(`INSERT INTO secrets (name, nonce, sealed, created_at, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4, ?4, ?5)
    ON CONFLICT(name) DO UPDATE SET nonce = excluded.nonce, sealed = excluded.sealed, updated_at = excluded.updated_at, updated_by = excluded.updated_by`)
    .run(s.name, s.nonce, s.sealed, s.updatedAt, s.updatedBy)
}

export function deleteSecretRow(store: Store, name: string) {
  store.db.query('DELETE FROM secrets WHERE name = ?').run(name)
}
