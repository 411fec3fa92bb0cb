import {Database} from 'bun:sqlite'
import {chmodSync, closeSync, mkdirSync, openSync} from 'node:fs'
import {dirname} from 'node:path'
import {OperationError} from '../../util/errors.ts'
import {isPostgresUrl, type SqlDatabase} from './engine.ts'
import {PostgresDatabase} from './postgres/database.ts'
import {CacheCoherence, SETTLE_MS} from './postgres/coherence.ts'
import {processClock} from './postgres/notices.ts'
import {POSTGRES_MIGRATIONS} from './postgres/schema.ts'
import {MIGRATIONS} from './schema.ts'
import type {IdKind} from '../../operator-contract/views.ts'

export type Enrollment = 'pending' | 'active' | 'revoked'
/** Why a device is kept only as a record: its certificate cannot onboard again unless allowed. */
export type Tombstone = 'rejected' | 'deleted' | 'replaced'
export type Desired = 'present' | 'absent'

/** The kinds of id an operator may shorten: devices (clientId), deployments and rollouts. */
export type {IdKind}

const ID_COLUMNS: Record<IdKind, {table: string, column: string, live: string}> = {
  device: {table: 'clients', column: 'client_id', live: ''},
  deployment: {table: 'deployments', column: 'deployment_id', live: ''},
  // A deleted rollout answers 404 by its full id; a prefix must not find it either.
  rollout: {table: 'rollouts', column: 'rollout_id', live: 'AND deleted = 0'},
}

export interface ClientRecord {
  clientId: string
  fingerprint: string
  certificatePem: string
  subject: string
  keyType: string
  notAfter: string
  enrollment: Enrollment
  onboardedAt: string
  lastSeenAt: string | null
  capabilitiesJson: string | null
  capabilitiesAt: string | null
  labels: Record<string, string>
  manifestVersion: number
  /** Set when the device was rejected, deleted or replaced (its enrollment is then `revoked`). */
  tombstone?: Tombstone | null
  tombstoneAt?: string | null
  /** The device that took over from a replaced one. */
  replacedBy?: string | null
  /** 1 when an operator allowed the tombstone's certificate to onboard again. */
  reonboardAllowed?: number
  /** Stored columns that could not be read back, e.g. `labels`; they read as empty instead. */
  unreadable?: string[]
}

export interface AppVersionRecord {
  appId: string
  version: string
  name: string
  descriptionYaml: string
  descriptionJson: string
  packageDigest: string | null
  publishedAt: string
}

export interface DeploymentRecord {
  deploymentId: string
  clientId: string
  appId: string
  appVersion: string
  profileId: string
  profileType: string
  valuesJson: string
  digest: string
  desired: Desired
  createdAt: string
  updatedAt: string
  /** When the operator dropped it from the fleet view without the device confirming removal. */
  forgottenAt?: string | null
}

export interface ManifestRecord {
  clientId: string
  manifestVersion: number
  bytes: Uint8Array
  etag: string
  bundleDigest: string | null
  createdAt: string
}

export interface StatusReportRecord {
  id: number
  deploymentId: string
  clientId: string
  state: string
  errorJson: string | null
  componentsJson: string
  /** When the first report of this row came. */
  receivedAt: string
  /** Identical reports in a row are coalesced into one row: how many there were. */
  repeatCount: number
  /** When the last of them came; null while there was only one. */
  lastReceivedAt: string | null
}

/** What authenticating a device needs from its record: kept in memory, read on every request. */
export type ClientCredential = Pick<ClientRecord, 'clientId' | 'fingerprint' | 'certificatePem' | 'enrollment' | 'notAfter'>

/** How many manifests per client stay fetchable (with their artifacts) after newer ones exist. */
export const MANIFEST_RETENTION = 16

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
function mapRow<T>(row: Record<string, unknown> | null): T | null {
  if (!row) return null
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) out[camel(k)] = v
  return out as T
}
function toClient(row: Record<string, unknown> | null): ClientRecord | null {
  const c = mapRow<ClientRecord & {labelsJson: string}>(row)
  if (!c) return null
  const {labelsJson, ...rest} = c
  const labels = readLabels(labelsJson)
  return labels ? {...rest, labels} : {...rest, labels: {}, unreadable: ['labels']}
}
/** One bad row must not make every listing of devices fail: null when the column is not a label map. */
function readLabels(text: string): Record<string, string> | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  return Object.values(value).every(v => typeof v === 'string') ? value as Record<string, string> : null
}
/**
 * A database a newer margo migrated is not opened by an older one: it could not know what the
 * new columns and tables mean, and its writes could break the newer nodes' invariants.
 */
function refuseNewerSchema(found: number, known: number) {
  if (found > known) {
    throw new OperationError(`the database is at schema version ${found}, newer than this margo knows (${known}): a newer margo has upgraded it — run that version (or later), or restore a backup taken before the upgrade`, {code: 'newer_schema'})
  }
}

const asBytes = (v: unknown) => (v instanceof Uint8Array ? v : new Uint8Array(v as ArrayBuffer))

/**
 * The server's only persistence: one SQLite file in WAL mode with synchronous=FULL, so a
 * request acknowledged to a client survives a kill or a power loss — or a PostgreSQL database
 * several serve nodes share (a `postgres://` location). Narrow, synchronous methods;
 * multi-step changes go through `transaction`.
 */
export class Store {
  /** For the store's own query modules (src/server/store/) only; services call their functions. */
  readonly db: SqlDatabase
  readonly engine: 'sqlite' | 'postgres'
  /**
   * The device hot path (every poll) reads a client's credential and its current manifest ETag.
   * Both are cached here, where every write to them happens, so a revocation or a new manifest
   * is seen by the very next request. Misses are not cached: unknown clientIds cost memory nothing.
   */
  private readonly credentials = new Map<string, ClientCredential>()
  private readonly manifestEtags = new Map<string, string>()
  /**
   * With several serve processes on one database (`shared`), a write that changes a cached entry
   * also records the clientId in `cache_invalidations`; every read of a cache first asks SQLite
   * whether another connection committed anything (`PRAGMA data_version`, no I/O) and, if so,
   * forgets the entries recorded since it last looked. A revocation committed by one process is
   * therefore seen by the next request any process serves.
   */
  private readonly shared: boolean
  private dataVersion = -1
  private lastInvalidation = 0
  /** On PostgreSQL: the adapter, whose notifications keep the caches coherent without reads. */
  private readonly postgres: PostgresDatabase | undefined
  private readonly coherence: CacheCoherence | undefined
  private credentialsChangedAt: number | undefined

  /**
   * `location`: a SQLite file, `:memory:`, or a PostgreSQL URL. On PostgreSQL the store is always
   * shared (other nodes may use the database); `schema` names the schema to work in (tests).
   */
  constructor(location: string, options: {shared?: boolean, schema?: string} = {}) {
    if (isPostgresUrl(location)) {
      this.engine = 'postgres'
      this.shared = true
      this.db = new PostgresDatabase(location, {schema: options.schema})
      try {
        this.migratePostgres()
      } catch (err) {
        this.db.close()
        throw err
      }
      this.postgres = this.db as PostgresDatabase
      this.lastInvalidation = (this.db.query('SELECT coalesce(max(id), 0) AS id FROM cache_invalidations').get() as {id: number}).id
      this.coherence = new CacheCoherence(this.lastInvalidation)
      this.postgres.listen(this.lastInvalidation)
      return
    }
    this.engine = 'sqlite'
    const path = location
    this.shared = options.shared ?? false
    if (path !== ':memory:') {
      // Device certificates and deployment values (which may hold secrets) live here: owner only.
      mkdirSync(dirname(path), {recursive: true, mode: 0o700})
      closeSync(openSync(path, 'a', 0o600))
      chmodSync(path, 0o600)
    }
    this.db = new Database(path, {create: true, strict: true})
    this.db.exec('PRAGMA journal_mode = WAL')
    this.db.exec('PRAGMA synchronous = FULL')
    this.db.exec('PRAGMA busy_timeout = 5000')
    this.db.exec('PRAGMA foreign_keys = ON')
    try {
      this.migrate()
    } catch (err) {
      this.db.close()
      throw err
    }
    if (this.shared) this.lastInvalidation = (this.db.query('SELECT coalesce(max(id), 0) AS id FROM cache_invalidations').get() as {id: number}).id
  }

  /** Forgets cached entries another process invalidated since the last look (shared mode only). */
  private syncCaches() {
    if (this.postgres && this.coherence) {
      // Notifications tell what others changed; while they are known to be caught up, a cached
      // read costs no round trip. Otherwise the range read below, as on SQLite.
      const caughtUp = this.coherence.apply(this.postgres.cacheNotices(), id => this.forgetCached(id), () => this.forgetAllCached(), processClock())
      this.lastInvalidation = Math.max(this.lastInvalidation, this.coherence.applied)
      if (caughtUp) return
    } else {
      const version = (this.db.query('PRAGMA data_version').get() as {data_version: number}).data_version
      if (version === this.dataVersion) return
      this.dataVersion = version
    }
    const rows = this.db.query('SELECT id, client_id FROM cache_invalidations WHERE id > ? ORDER BY id').all(this.lastInvalidation) as {id: number, client_id: string}[]
    if (rows.length === 0) return
    this.coherence?.readUpTo(rows[rows.length - 1]!.id)
    // Rows are pruned by count: a gap means some were deleted before this process read them.
    if (rows[0]!.id !== this.lastInvalidation + 1) {
      this.forgetAllCached()
    } else {
      for (const r of rows) this.forgetCached(r.client_id)
    }
    this.lastInvalidation = rows[rows.length - 1]!.id
  }

  private forgetCached(clientId: string) {
    this.credentials.delete(clientId)
    this.manifestEtags.delete(clientId)
  }

  private forgetAllCached() {
    this.credentials.clear()
    this.manifestEtags.clear()
  }

  /** Forget `clientId`'s cached entries here and, in shared mode, in every other process. */
  private invalidate(clientId: string) {
    this.forgetCached(clientId)
    if (!this.shared) return
    this.db.query('INSERT INTO cache_invalidations (client_id) VALUES (?)').run(clientId)
    this.postgres?.notifyOnCommit('cache')
  }

  /**
   * Resolves once a change of device credentials made by this process (revoke, reject, delete,
   * approve) is effective in every process of every node: at once on SQLite, where each process
   * asks the database before trusting its cache, SETTLE_MS after the change on PostgreSQL
   * (coherence.ts). The operator API answers a change only then. `since`: when the request that
   * may have made the change began (performance.now()).
   */
  async credentialsSettled(since: number): Promise<void> {
    // Called once the request's transaction committed: the window starts now, not at the write.
    if (this.credentialsChangedAt !== undefined && this.credentialsChangedAt >= since) await Bun.sleep(SETTLE_MS)
  }

  private credentialsChanged() {
    if (this.postgres) this.credentialsChangedAt = performance.now()
  }

  /** In shared mode, a write and its invalidation record commit together (one commit, one fsync). */
  private write(fn: () => void) {
    if (!this.shared || this.db.inTransaction) fn()
    else this.db.transaction(fn).immediate()
  }

  /** Keeps the newest `keep` invalidation records; a process further behind forgets its whole cache. */
  pruneCacheInvalidations(keep = 10_000) {
    this.db.query('DELETE FROM cache_invalidations WHERE id <= (SELECT max(id) FROM cache_invalidations) - ?').run(keep)
  }

  /** What the migrations run by this open changed or could not decide; the server logs them. */
  readonly migrationNotes: string[] = []

  private migrate() {
    const row = this.db.query('PRAGMA user_version').get() as {user_version: number}
    refuseNewerSchema(row.user_version, MIGRATIONS.length)
    for (let v = row.user_version; v < MIGRATIONS.length; v++) {
      const step = MIGRATIONS[v]!
      this.db.transaction(() => {
        if (typeof step === 'string') this.db.exec(step)
        else this.migrationNotes.push(...step(this.db))
        this.db.exec(`PRAGMA user_version = ${v + 1}`)
      }).immediate()
    }
  }

  /**
   * Brings a PostgreSQL database to POSTGRES_MIGRATIONS' end. Nodes starting together queue on
   * the write lock, and each step commits with its version.
   */
  private migratePostgres() {
    for (;;) {
      const done = this.db.transaction(() => {
        this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)')
        const row = this.db.query('SELECT max(version) AS v FROM schema_version').get() as {v: number | null}
        const v = row.v ?? 0
        refuseNewerSchema(v, POSTGRES_MIGRATIONS.length)
        if (v >= POSTGRES_MIGRATIONS.length) return true
        this.db.exec(POSTGRES_MIGRATIONS[v]!)
        this.db.query('INSERT INTO schema_version (version) VALUES (?)').run(v + 1)
        return false
      }).immediate()
      if (done) return
    }
  }

  /** Told how long each committed write transaction took (the server's metrics). */
  onCommit: ((seconds: number) => void) | undefined

  /**
   * Write transactions take the write lock when they begin (BEGIN IMMEDIATE): a transaction that
   * starts as a reader and then writes cannot wait for another process's writer — SQLite answers
   * "database is locked" at once instead of honouring busy_timeout.
   */
  transaction<T>(fn: () => T): T {
    try {
      if (this.db.inTransaction) return this.db.transaction(fn)()
      if (!this.onCommit) return this.db.transaction(fn).immediate()
      const t0 = performance.now()
      const result = this.db.transaction(fn).immediate()
      this.onCommit((performance.now() - t0) / 1000)
      return result
    } catch (err) {
      // A read inside the rolled-back transaction may have cached what never committed.
      this.forgetAllCached()
      throw err
    }
  }

  close() {
    this.db.close()
  }

  // ---- ids --------------------------------------------------------------------------------

  /**
   * Up to `limit` ids of one kind that start with `prefix`, in order. A range on the primary
   * key rather than LIKE (case-insensitive, and a scan) keeps it one index lookup.
   */
  idsWithPrefix(kind: IdKind, prefix: string, limit: number): string[] {
    const {table, column, live} = ID_COLUMNS[kind]
    const rows = this.db.query(`SELECT ${column} AS id FROM ${table} WHERE ${column} >= ?1 AND ${column} < ?2 ${live} ORDER BY ${column} LIMIT ?3`)
      .all(prefix, `${prefix}\u{10FFFF}`, limit) as {id: string}[]
    return rows.map(r => r.id)
  }

  // ---- clients ----------------------------------------------------------------------------

  getClient(clientId: string): ClientRecord | null {
    return toClient(this.db.query('SELECT * FROM clients WHERE client_id = ?').get(clientId) as Record<string, unknown> | null)
  }

  /** The fields authentication needs, from memory after the first read. */
  getCredential(clientId: string): ClientCredential | null {
    if (this.shared) this.syncCaches()
    const cached = this.credentials.get(clientId)
    if (cached) return cached
    const row = this.db.query('SELECT client_id, fingerprint, certificate_pem, enrollment, not_after FROM clients WHERE client_id = ?')
      .get(clientId) as {client_id: string, fingerprint: string, certificate_pem: string, enrollment: Enrollment, not_after: string} | null
    if (!row) return null
    const credential = {clientId: row.client_id, fingerprint: row.fingerprint, certificatePem: row.certificate_pem, enrollment: row.enrollment, notAfter: row.not_after}
    this.credentials.set(clientId, credential)
    return credential
  }

  getClientByFingerprint(fingerprint: string): ClientRecord | null {
    return toClient(this.db.query('SELECT * FROM clients WHERE fingerprint = ?').get(fingerprint) as Record<string, unknown> | null)
  }

  listClients(): ClientRecord[] {
    return (this.db.query('SELECT * FROM clients ORDER BY onboarded_at, client_id').all() as Record<string, unknown>[]).map(r => toClient(r)!)
  }

  insertClient(c: Omit<ClientRecord, 'lastSeenAt' | 'capabilitiesJson' | 'capabilitiesAt' | 'labels' | 'manifestVersion'>) {
    this.write(() => {
      this.db.query(`INSERT INTO clients (client_id, fingerprint, certificate_pem, subject, key_type, not_after, enrollment, onboarded_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(c.clientId, c.fingerprint, c.certificatePem, c.subject, c.keyType, c.notAfter, c.enrollment, c.onboardedAt)
      this.invalidate(c.clientId)
    })
  }

  setEnrollment(clientId: string, enrollment: Enrollment) {
    // Forget before writing: a failed write leaves the next read to the database either way.
    this.credentials.delete(clientId)
    this.write(() => {
      this.invalidate(clientId)
      this.db.query('UPDATE clients SET enrollment = ? WHERE client_id = ?').run(enrollment, clientId)
    })
    this.credentialsChanged()
  }

  /**
   * Keeps the device only as a tombstone: revoked, so its signed requests are refused from the
   * next one on, and its certificate cannot onboard again unless `reonboardAllowed`.
   */
  setTombstone(clientId: string, t: {tombstone: Tombstone, at: string, replacedBy?: string | null, reonboardAllowed?: boolean}) {
    this.credentials.delete(clientId)
    this.write(() => {
      this.invalidate(clientId)
      this.db.query(`UPDATE clients SET enrollment = 'revoked', tombstone = ?, tombstone_at = ?, replaced_by = ?, reonboard_allowed = ? WHERE client_id = ?`)
        .run(t.tombstone, t.at, t.replacedBy ?? null, t.reonboardAllowed ? 1 : 0, clientId)
    })
    this.credentialsChanged()
  }

  /** A tombstone whose certificate was allowed back onboards again under its old clientId. */
  reviveClient(clientId: string, enrollment: Enrollment) {
    this.credentials.delete(clientId)
    this.write(() => {
      this.invalidate(clientId)
      this.db.query('UPDATE clients SET enrollment = ?, tombstone = NULL, tombstone_at = NULL, replaced_by = NULL, reonboard_allowed = 0 WHERE client_id = ?').run(enrollment, clientId)
    })
    this.credentialsChanged()
  }

  setCapabilities(clientId: string, json: string, at: string) {
    this.db.query('UPDATE clients SET capabilities_json = ?, capabilities_at = ? WHERE client_id = ?').run(json, at, clientId)
  }

  setLabels(clientId: string, labels: Record<string, string>) {
    this.db.query('UPDATE clients SET labels_json = ? WHERE client_id = ?').run(JSON.stringify(labels), clientId)
  }

  setLastSeen(entries: Iterable<[clientId: string, at: string]>) {
    const q = this.db.query('UPDATE clients SET last_seen_at = ? WHERE client_id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)')
    this.transaction(() => { for (const [id, at] of entries) q.run(at, id, at) })
  }

  /** The lowest version `clientId`'s next manifest may carry (0: none); raised by a restore. */
  manifestFloor(clientId: string): number {
    const row = this.db.query('SELECT manifest_floor FROM clients WHERE client_id = ?').get(clientId) as {manifest_floor: number} | null
    return row?.manifest_floor ?? 0
  }

  /** Raises every known client's floor to at least `floor`; the clients that hold a manifest, to re-announce. */
  raiseManifestFloors(floor: number): string[] {
    this.db.query('UPDATE clients SET manifest_floor = ?1 WHERE manifest_floor < ?1').run(floor)
    return (this.db.query('SELECT DISTINCT client_id FROM manifests ORDER BY client_id').all() as {client_id: string}[]).map(r => r.client_id)
  }

  setManifestVersion(clientId: string, version: number) {
    this.db.query('UPDATE clients SET manifest_version = ? WHERE client_id = ?').run(version, clientId)
  }

  // ---- enrollment lists ----------------------------------------------------------------------

  addPreregistered(fingerprint: string, at: string) {
    this.db.query('INSERT INTO preregistered (fingerprint, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING').run(fingerprint, at)
  }

  isPreregistered(fingerprint: string): boolean {
    return this.db.query('SELECT 1 FROM preregistered WHERE fingerprint = ?').get(fingerprint) !== null
  }

  /** A preauthorisation by a join token: the labels the device gets when it onboards. */
  addJoinGrant(fingerprint: string, grant: {labels: Record<string, string>, joinToken: string}, at: string) {
    this.db.query(`INSERT INTO preregistered (fingerprint, created_at, labels_json, join_token) VALUES (?, ?, ?, ?)
      ON CONFLICT (fingerprint) DO UPDATE SET labels_json = excluded.labels_json, join_token = excluded.join_token`).run(fingerprint, at, JSON.stringify(grant.labels), grant.joinToken)
  }

  /** The preauthorisation of a certificate, or null; labels are empty for one an operator pre-registered by hand. */
  getPreregistration(fingerprint: string): {labels: Record<string, string>, joinToken: string | null} | null {
    const row = this.db.query('SELECT labels_json, join_token FROM preregistered WHERE fingerprint = ?').get(fingerprint) as {labels_json: string | null, join_token: string | null} | null
    if (!row) return null
    return {labels: (row.labels_json ? readLabels(row.labels_json) : null) ?? {}, joinToken: row.join_token}
  }

  addDenied(value: string, at: string) {
    this.db.query('INSERT INTO denied_certificates (value, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING').run(value, at)
  }

  removeDenied(value: string) {
    this.db.query('DELETE FROM denied_certificates WHERE value = ?').run(value)
  }

  listDenied(): {value: string, createdAt: string}[] {
    return (this.db.query('SELECT value, created_at FROM denied_certificates ORDER BY created_at').all() as Record<string, unknown>[]).map(r => mapRow(r)!)
  }

  isDenied(...values: string[]): boolean {
    const q = this.db.query('SELECT 1 FROM denied_certificates WHERE value = ?')
    return values.some(v => q.get(v) !== null)
  }

  // ---- catalog ----------------------------------------------------------------------------

  putAppVersion(a: AppVersionRecord & {packageBytes: Uint8Array | null}) {
    this.db.query(`INSERT INTO app_versions (app_id, version, name, description_yaml, description_json, package_digest, package_bytes, published_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(a.appId, a.version, a.name, a.descriptionYaml, a.descriptionJson, a.packageDigest, a.packageBytes, a.publishedAt)
  }

  getAppVersion(appId: string, version: string): AppVersionRecord | null {
    return mapRow(this.db.query(`SELECT app_id, version, name, description_yaml, description_json, package_digest, published_at
      FROM app_versions WHERE app_id = ? AND version = ?`).get(appId, version) as Record<string, unknown> | null)
  }

  listAppVersions(appId?: string): AppVersionRecord[] {
    const sql = `SELECT app_id, version, name, description_yaml, description_json, package_digest, published_at FROM app_versions
      ${appId ? 'WHERE app_id = ?' : ''} ORDER BY app_id, published_at, version`
    const rows = (appId ? this.db.query(sql).all(appId) : this.db.query(sql).all()) as Record<string, unknown>[]
    return rows.map(r => mapRow<AppVersionRecord>(r)!)
  }

  // ---- deployments ----------------------------------------------------------------------------

  insertDeployment(d: DeploymentRecord) {
    this.db.query(`INSERT INTO deployments (deployment_id, client_id, app_id, app_version, profile_id, profile_type, values_json, digest, desired, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(d.deploymentId, d.clientId, d.appId, d.appVersion, d.profileId, d.profileType, d.valuesJson, d.digest, d.desired, d.createdAt, d.updatedAt)
  }

  updateDeployment(d: DeploymentRecord) {
    this.db.query(`UPDATE deployments SET app_version = ?, profile_id = ?, profile_type = ?, values_json = ?, digest = ?, desired = ?, updated_at = ?
      WHERE deployment_id = ?`).run(d.appVersion, d.profileId, d.profileType, d.valuesJson, d.digest, d.desired, d.updatedAt, d.deploymentId)
  }

  getDeployment(deploymentId: string): DeploymentRecord | null {
    return mapRow(this.db.query('SELECT * FROM deployments WHERE deployment_id = ?').get(deploymentId) as Record<string, unknown> | null)
  }

  listDeployments(filter: {clientId?: string, appId?: string, rolloutId?: string, desired?: Desired} = {}): DeploymentRecord[] {
    const where: string[] = []
    const args: string[] = []
    if (filter.clientId) { where.push('client_id = ?'); args.push(filter.clientId) }
    if (filter.rolloutId) { where.push('rollout_id = ?'); args.push(filter.rolloutId) }
    if (filter.appId) { where.push('app_id = ?'); args.push(filter.appId) }
    if (filter.desired) { where.push('desired = ?'); args.push(filter.desired) }
    const sql = `SELECT * FROM deployments ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, deployment_id`
    return (this.db.query(sql).all(...args) as Record<string, unknown>[]).map(r => mapRow<DeploymentRecord>(r)!)
  }

  // ---- artifacts and manifests ----------------------------------------------------------------

  putArtifact(digest: string, mediaType: string, bytes: Uint8Array, at: string) {
    this.db.query('INSERT INTO artifacts (digest, media_type, bytes, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(digest, mediaType, bytes, at)
  }

  getArtifact(digest: string): {mediaType: string, bytes: Uint8Array} | null {
    const row = this.db.query('SELECT media_type, bytes FROM artifacts WHERE digest = ?').get(digest) as {media_type: string, bytes: unknown} | null
    return row ? {mediaType: row.media_type, bytes: asBytes(row.bytes)} : null
  }

  currentManifest(clientId: string): ManifestRecord | null {
    const row = mapRow<ManifestRecord>(this.db.query(`SELECT * FROM manifests WHERE client_id = ? ORDER BY manifest_version DESC LIMIT 1`)
      .get(clientId) as Record<string, unknown> | null)
    return row ? {...row, bytes: asBytes(row.bytes)} : null
  }

  /** Version and ETag only: the 304 path of a poll needs nothing more. */
  currentManifestEtag(clientId: string): string | null {
    if (this.shared) this.syncCaches()
    const cached = this.manifestEtags.get(clientId)
    if (cached) return cached
    const row = this.db.query('SELECT etag FROM manifests WHERE client_id = ? ORDER BY manifest_version DESC LIMIT 1').get(clientId) as {etag: string} | null
    if (row) this.manifestEtags.set(clientId, row.etag)
    return row?.etag ?? null
  }

  manifestEntries(clientId: string, manifestVersion: number): {deploymentId: string, digest: string}[] {
    return (this.db.query('SELECT deployment_id, digest FROM manifest_entries WHERE client_id = ? AND manifest_version = ? ORDER BY deployment_id')
      .all(clientId, manifestVersion) as Record<string, unknown>[]).map(r => mapRow<{deploymentId: string, digest: string}>(r)!)
  }

  insertManifest(m: ManifestRecord, entries: {deploymentId: string, digest: string}[]) {
    this.manifestEtags.delete(m.clientId)
    this.write(() => this.insertManifestRows(m, entries))
  }

  private insertManifestRows(m: ManifestRecord, entries: {deploymentId: string, digest: string}[]) {
    this.invalidate(m.clientId)
    this.db.query('INSERT INTO manifests (client_id, manifest_version, bytes, etag, bundle_digest, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(m.clientId, m.manifestVersion, m.bytes, m.etag, m.bundleDigest, m.createdAt)
    const q = this.db.query('INSERT INTO manifest_entries (client_id, manifest_version, deployment_id, digest) VALUES (?, ?, ?, ?)')
    for (const e of entries) q.run(m.clientId, m.manifestVersion, e.deploymentId, e.digest)
    this.setManifestVersion(m.clientId, m.manifestVersion)
  }

  /** Forget manifests older than the retention window; their artifacts go if nothing else uses them. */
  pruneManifests(clientId: string, keep = MANIFEST_RETENTION) {
    const cutoff = this.db.query('SELECT manifest_version FROM manifests WHERE client_id = ? ORDER BY manifest_version DESC LIMIT 1 OFFSET ?')
      .get(clientId, keep) as {manifest_version: number} | null
    if (!cutoff) return
    this.invalidate(clientId)
    this.db.query('DELETE FROM manifest_entries WHERE client_id = ? AND manifest_version <= ?').run(clientId, cutoff.manifest_version)
    this.db.query('DELETE FROM manifests WHERE client_id = ? AND manifest_version <= ?').run(clientId, cutoff.manifest_version)
    this.db.exec(`DELETE FROM artifacts WHERE digest NOT IN (SELECT digest FROM manifest_entries)
      AND digest NOT IN (SELECT bundle_digest FROM manifests WHERE bundle_digest IS NOT NULL)
      AND digest NOT IN (SELECT digest FROM deployments)`)
  }

  /** A YAML is served to a client only if one of its retained manifests referenced it. */
  hasDeploymentArtifact(clientId: string, deploymentId: string, digest: string): boolean {
    return this.db.query('SELECT 1 FROM manifest_entries WHERE client_id = ? AND deployment_id = ? AND digest = ? LIMIT 1')
      .get(clientId, deploymentId, digest) !== null
  }

  hasBundle(clientId: string, digest: string): boolean {
    return this.db.query('SELECT 1 FROM manifests WHERE client_id = ? AND bundle_digest = ? LIMIT 1').get(clientId, digest) !== null
  }

  // ---- status -----------------------------------------------------------------------------

  latestStatus(deploymentId: string): StatusReportRecord | null {
    return mapRow(this.db.query('SELECT * FROM status_reports WHERE deployment_id = ? ORDER BY id DESC LIMIT 1').get(deploymentId) as Record<string, unknown> | null)
  }

  statusTimeline(deploymentId: string, limit = 200): StatusReportRecord[] {
    const rows = this.db.query('SELECT * FROM status_reports WHERE deployment_id = ? ORDER BY id DESC LIMIT ?').all(deploymentId, limit) as Record<string, unknown>[]
    return rows.map(r => mapRow<StatusReportRecord>(r)!).reverse()
  }
}
