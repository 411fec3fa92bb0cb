/**
 * SQL for registries (table `registries`, schema version 2) and the catalog's `source` column.
 * Credentials are stored here and nowhere else; readers that serve the API get `hasCredentials`.
 */
import type {Store} from './store.ts'

export type RegistryKind = 'oci' | 'git'

export type StoredCredentials =
  | {kind: 'basic', username: string, password: string}
  | {kind: 'bearer', token: string}

export interface RegistryRecord {
  name: string
  kind: RegistryKind
  url: string
  ref: string | null
  repositories: string[]
  credentials: StoredCredentials | null
  intervalSeconds: number
  createdAt: string
  lastSyncAt: string | null
  /** The last sync's result document, as stored. */
  lastSyncJson: string | null
}

interface Row {
  name: string
  kind: RegistryKind
  url: string
  ref: string | null
  repositories_json: string
  credentials_json: string | null
  interval_seconds: number
  created_at: string
  last_sync_at: string | null
  last_sync_json: string | null
}

function toRecord(row: Row): RegistryRecord {
  return {
    name: row.name,
    kind: row.kind,
    url: row.url,
    ref: row.ref,
    repositories: JSON.parse(row.repositories_json) as string[],
    credentials: row.credentials_json ? JSON.parse(row.credentials_json) as StoredCredentials : null,
    intervalSeconds: row.interval_seconds,
    createdAt: row.created_at,
    lastSyncAt: row.last_sync_at,
    lastSyncJson: row.last_sync_json,
  }
}

/** False when a registry of that name exists (the primary key decides, so two racing inserts cannot both win). */
export function insertRegistry(store: Store, r: Omit<RegistryRecord, 'lastSyncAt' | 'lastSyncJson'>): boolean {
  const res = store.db.query(`INSERT INTO registries (name, kind, url, ref, repositories_json, credentials_json, interval_seconds, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING`).run(
    r.name, r.kind, r.url, r.ref, JSON.stringify(r.repositories), r.credentials ? JSON.stringify(r.credentials) : null, r.intervalSeconds, r.createdAt)
  return res.changes === 1
}

export function getRegistry(store: Store, name: string): RegistryRecord | null {
  const row = store.db.query('SELECT * FROM registries WHERE name = ?').get(name) as Row | null
  return row ? toRecord(row) : null
}

export function listRegistries(store: Store): RegistryRecord[] {
  return (store.db.query('SELECT * FROM registries ORDER BY name').all() as Row[]).map(toRecord)
}

export function deleteRegistry(store: Store, name: string): boolean {
  return store.db.query('DELETE FROM registries WHERE name = ?').run(name).changes === 1
}

/** Records a finished sync; a registry deleted meanwhile stays deleted. */
export function recordSync(store: Store, name: string, at: string, resultJson: string): void {
  store.db.query('UPDATE registries SET last_sync_at = ?, last_sync_json = ? WHERE name = ?').run(at, resultJson, name)
}

/** Where an app version came from: `upload` or `registry:<name>`. */
export function setAppVersionSource(store: Store, appId: string, version: string, source: string): void {
  store.db.query('UPDATE app_versions SET source = ? WHERE app_id = ? AND version = ?').run(source, appId, version)
}

export function getAppVersionSource(store: Store, appId: string, version: string): string | null {
  const row = store.db.query('SELECT source FROM app_versions WHERE app_id = ? AND version = ?').get(appId, version) as {source: string | null} | null
  return row?.source ?? null
}
