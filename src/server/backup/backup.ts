import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {dataDirFiles} from '../../config/paths.ts'
import {OperationError, UsageError} from '../../util/errors.ts'
import {writeFileAtomic} from '../../util/fs.ts'
import {Database} from 'bun:sqlite'
import {redactUrl} from '../db-migrate.ts'
import {isPostgresUrl} from '../store/engine.ts'
import {PostgresError} from '../store/postgres/database.ts'
import {fleetSize, schemaVersion, snapshotDatabase} from '../store/snapshot.ts'
import {snapshotPostgres} from '../store/snapshot-postgres.ts'
import {type BackupKey, type SCRYPT, sealBackup} from './archive.ts'
import {BACKUP_FILES, type BackupContents, DATABASE_FILE, packContents} from './contents.ts'

export interface BackupOptions {
  /** Holds the key files; and the database, unless `database` names a PostgreSQL one. */
  dataDir: string
  /** The PostgreSQL database margo serve runs on (postgres://…); default: the data dir's SQLite file. */
  database?: string
  /** The PostgreSQL schema to read (tests); default: the connection's search_path. */
  schema?: string
  /** The backup file to write (mode 0600, atomically). */
  file: string
  key: BackupKey
  /** The key that seals secrets, when the server runs with --secret-key-file outside the data dir. */
  secretKeyFile?: string
  margoVersion: string
  now?: () => Date
  /** Lowered by tests only. */
  scrypt?: typeof SCRYPT
}

export interface BackupSummary {
  file: string
  engine: 'sqlite' | 'postgres'
  bytes: number
  createdAt: string
  devices: number
  deployments: number
  files: string[]
  seconds: number
}

/**
 * An online backup of a fleet, whether its `margo serve` (one process or several, one node or
 * several) is running or not: a snapshot of the database and the data dir's key files,
 * encrypted into one file. The snapshot is a SQLite file of margo's schema on either engine —
 * `VACUUM INTO` of the data dir's database, or one consistent read of the PostgreSQL database —
 * so any backup restores onto either engine.
 */
export function createBackup(opts: BackupOptions): BackupSummary {
  const t0 = performance.now()
  const files = dataDirFiles(opts.dataDir)
  const engine = opts.database === undefined ? 'sqlite' : 'postgres'
  if (opts.database !== undefined && !isPostgresUrl(opts.database)) throw new UsageError(`--database must be a postgres:// or postgresql:// URL, not ${redactUrl(opts.database)}`)
  if (engine === 'sqlite' && !existsSync(files.database)) throw new OperationError(`no margo database in ${opts.dataDir} (looked for ${files.database}) — is --data-dir right?`, {code: 'not_found'})
  if (engine === 'postgres' && !existsSync(opts.dataDir)) throw new OperationError(`no data dir ${opts.dataDir}: it holds the CA, the server key pair, the operator token and the secrets key to back up with the database — is --data-dir right?`, {code: 'not_found'})
  const file = resolve(opts.file)
  // The snapshot is written beside the backup, in a directory only the owner can enter.
  const scratch = mkdtempSync(join(dirname(file), '.margo-backup-'))
  try {
    const snapshot = join(scratch, DATABASE_FILE)
    if (opts.database === undefined) snapshotDatabase(files.database, snapshot)
    else snapshotFromPostgres(opts.database, snapshot, opts.schema)
    const db = new Database(snapshot, {readonly: true})
    let size: {devices: number, deployments: number}
    try { size = fleetSize(db) } finally { db.close() }
    const createdAt = (opts.now?.() ?? new Date()).toISOString()
    const contents: BackupContents = {
      index: {format: 1, createdAt, margoVersion: opts.margoVersion, schemaVersion: schemaVersion(snapshot), engine, ...size},
      files: [],
    }
    for (const entry of BACKUP_FILES) {
      const source = entry.name === DATABASE_FILE ? snapshot
        : entry.name === dataDirFiles('').secretKey && opts.secretKeyFile ? opts.secretKeyFile
        : join(opts.dataDir, entry.name)
      if (!existsSync(source)) {
        if (entry.required || source === opts.secretKeyFile) throw new OperationError(`cannot back up ${source}: it does not exist`, {code: 'not_found'})
        continue
      }
      contents.files.push({name: entry.name, bytes: new Uint8Array(readFileSync(source))})
    }
    const sealed = sealBackup(packContents(contents), opts.key, opts.scrypt)
    writeFileAtomic(file, sealed, 0o600)
    return {file, engine, bytes: sealed.length, createdAt, ...size, files: contents.files.map(f => f.name), seconds: (performance.now() - t0) / 1000}
  } finally {
    rmSync(scratch, {recursive: true, force: true})
  }
}

function snapshotFromPostgres(url: string, target: string, schema: string | undefined): void {
  try {
    snapshotPostgres(url, target, schema ? {schema} : {})
  } catch (err) {
    if (err instanceof PostgresError) throw new OperationError(`cannot read the PostgreSQL database ${redactUrl(url)}: ${err.message}`, {code: 'database_unreachable', cause: err})
    throw err
  }
}
