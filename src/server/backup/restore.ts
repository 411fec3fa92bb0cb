import {chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {OperationError, UsageError} from '../../util/errors.ts'
import {writeFileAtomic} from '../../util/fs.ts'
import {redactUrl} from '../db-migrate.ts'
import {raiseVersionFloor} from '../desired-state/publish.ts'
import {restoreFloor} from '../desired-state/version-floor.ts'
import {isPostgresUrl} from '../store/engine.ts'
import {copySqliteToPostgres} from '../store/migrate-engine.ts'
import {MIGRATIONS} from '../store/schema.ts'
import {integrityProblems} from '../store/snapshot.ts'
import {occupiedPostgresTables} from '../store/snapshot-postgres.ts'
import {Store} from '../store/store.ts'
import {type BackupKey, openBackup} from './archive.ts'
import {BACKUP_FILES, DATABASE_FILE, unpackContents} from './contents.ts'

export interface RestoreOptions {
  file: string
  /** Receives the key files; and the database, unless `database` names a PostgreSQL one. */
  dataDir: string
  /** An empty PostgreSQL database (postgres://…) to restore the fleet into; default: SQLite in the data dir. */
  database?: string
  /** The PostgreSQL schema to restore into (tests); default: the connection's search_path. */
  schema?: string
  key: BackupKey
  now?: () => Date
}

export interface RestoreSummary {
  dataDir: string
  engine: 'sqlite' | 'postgres'
  /** Where the fleet was restored: the PostgreSQL URL without its password, or the SQLite file. */
  database: string
  /** The engine the backup was taken on. */
  backupEngine: 'sqlite' | 'postgres'
  backupCreatedAt: string
  devices: number
  deployments: number
  files: string[]
  /** Clients whose manifest was issued again above the floor. */
  reannounced: number
  manifestVersionFloor: number
  migrationNotes: string[]
  seconds: number
}

function readBackupFile(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message
    throw new UsageError(`cannot read the backup file ${file}: ${why}`)
  }
}

/** A restore goes into a directory that does not exist or is empty, never over a fleet. */
function refuseNonEmpty(dataDir: string) {
  if (!existsSync(dataDir)) return
  let entries: string[]
  try {
    entries = readdirSync(dataDir)
  } catch {
    throw new UsageError(`cannot restore into ${dataDir}: it is not a directory`)
  }
  if (entries.length > 0) throw new UsageError(`refusing to restore into ${dataDir}: it is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}) — restore into a new or empty directory`)
}

/** A restore into PostgreSQL goes into a database (or schema) whose tables hold no rows. */
function refuseOccupiedDatabase(url: string, schema: string | undefined) {
  let occupied: string[]
  try {
    occupied = occupiedPostgresTables(url, schema ? {schema} : {})
  } catch (err) {
    throw new OperationError(`cannot open the PostgreSQL database ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`, {code: 'database_unreachable', cause: err})
  }
  if (occupied.length > 0) throw occupiedRefusal(url, occupied)
}

const occupiedRefusal = (url: string, tables: string[]) => new UsageError(
  `refusing to restore into ${redactUrl(url)}: the database already holds data${tables.length > 0 ? ` (tables ${tables.join(', ')})` : ''} — restore into an empty database`,
  {code: 'target_not_empty'},
)

/**
 * Restores a backup into an empty data dir, and into an empty PostgreSQL database when
 * `database` names one: decrypt (the GCM tag proves the file whole), check the database
 * (`PRAGMA integrity_check`), bring its schema up to this margo, then raise every client's
 * manifest version floor to the restore time and re-announce each manifest above it
 * (src/server/desired-state/version-floor.ts). Everything is assembled in a sibling directory
 * and renamed into place at the end, so a failed restore leaves the target as it was. On
 * PostgreSQL the assembled database is then copied in one transaction that checks every
 * table's row count (`copySqliteToPostgres`), and the data dir receives the key files only.
 */
export function restoreBackup(opts: RestoreOptions): RestoreSummary {
  const t0 = performance.now()
  const dataDir = resolve(opts.dataDir)
  if (opts.database !== undefined && !isPostgresUrl(opts.database)) throw new UsageError(`--database must be a postgres:// or postgresql:// URL, not ${redactUrl(opts.database)}`)
  refuseNonEmpty(dataDir)
  const contents = unpackContents(openBackup(readBackupFile(opts.file), opts.key))
  const now = opts.now?.() ?? new Date()
  if (Date.parse(contents.index.createdAt) > now.getTime()) {
    throw new OperationError(`this machine's clock (${now.toISOString()}) is behind the backup's creation time (${contents.index.createdAt}): set the clock right (NTP) before restoring — manifest versions after a restore are based on it`, {code: 'clock_behind'})
  }
  if (contents.index.schemaVersion > MIGRATIONS.length) {
    throw new OperationError(`this backup was written by a newer margo (${contents.index.margoVersion}, schema ${contents.index.schemaVersion}; this one knows ${MIGRATIONS.length}): restore it with that version or later`, {code: 'newer_backup'})
  }
  if (opts.database !== undefined) refuseOccupiedDatabase(opts.database, opts.schema)
  mkdirSync(dirname(dataDir), {recursive: true})
  const staging = mkdtempSync(join(dirname(dataDir), `.${basename(dataDir)}.restore-`))
  try {
    for (const f of contents.files) {
      const secret = BACKUP_FILES.find(b => b.name === f.name)?.secret ?? true
      mkdirSync(dirname(join(staging, f.name)), {recursive: true, mode: 0o700})
      writeFileAtomic(join(staging, f.name), f.bytes, secret ? 0o600 : 0o644)
    }
    const database = join(staging, DATABASE_FILE)
    const problems = integrityProblems(database)
    if (problems.length > 0) throw new OperationError(`the backup's database fails its integrity check: ${problems.slice(0, 3).join('; ')}`, {code: 'bad_backup'})
    const store = new Store(database)
    let reannounced: number
    let floor: number
    try {
      floor = restoreFloor(now.getTime())
      reannounced = raiseVersionFloor(store, floor, now.toISOString()).clients
      if (opts.database !== undefined) copyIntoPostgres(store, opts.database, opts.schema)
    } finally {
      store.close()
    }
    // A server on PostgreSQL must find no SQLite fleet beside its keys to be started on by mistake.
    if (opts.database !== undefined) for (const suffix of ['', '-wal', '-shm']) rmSync(`${database}${suffix}`, {force: true})
    chmodSync(staging, 0o700)
    if (existsSync(dataDir)) rmdirSync(dataDir)
    renameSync(staging, dataDir)
    return {
      dataDir, engine: opts.database === undefined ? 'sqlite' : 'postgres',
      database: opts.database === undefined ? join(dataDir, DATABASE_FILE) : redactUrl(opts.database),
      backupEngine: contents.index.engine ?? 'sqlite',
      backupCreatedAt: contents.index.createdAt, devices: contents.index.devices, deployments: contents.index.deployments,
      files: contents.files.map(f => f.name).filter(f => opts.database === undefined || f !== DATABASE_FILE), reannounced, manifestVersionFloor: floor, migrationNotes: store.migrationNotes,
      seconds: (performance.now() - t0) / 1000,
    }
  } catch (err) {
    rmSync(staging, {recursive: true, force: true})
    throw err
  }
}

/**
 * The restored fleet, floors raised and manifests re-issued, into the empty PostgreSQL database:
 * one transaction, row counts checked, so it ends with the whole fleet or no rows (at most the
 * empty tables of margo's schema, which a second attempt accepts).
 */
function copyIntoPostgres(source: Store, url: string, schema: string | undefined) {
  let target: Store
  try {
    target = new Store(url, schema ? {schema} : {})
  } catch (err) {
    throw new OperationError(`cannot open the PostgreSQL database ${redactUrl(url)}: ${err instanceof Error ? err.message : String(err)}`, {code: 'database_unreachable', cause: err})
  }
  try {
    copySqliteToPostgres(source, target)
  } catch (err) {
    // Filled by someone else since the check above.
    if (err instanceof UsageError && err.code === 'target_not_empty') throw occupiedRefusal(url, [])
    throw err
  } finally {
    target.close()
  }
}
