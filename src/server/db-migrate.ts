import {existsSync} from 'node:fs'
import {resolve} from 'node:path'
import {dataDirFiles} from '../config/paths.ts'
import {OperationError, UsageError} from '../util/errors.ts'
import {acquireInstanceLock} from './instance-lock.ts'
import {isPostgresUrl} from './store/engine.ts'
import {copySqliteToPostgres, type TableCopy} from './store/migrate-engine.ts'
import {fleetSize} from './store/snapshot.ts'
import {Store} from './store/store.ts'

export interface MigrateOptions {
  dataDir: string
  /** The PostgreSQL database to fill: a postgres:// URL. */
  to: string
  /** The schema to work in (tests); default: the connection's search_path. */
  schema?: string
}

export interface MigrateSummary {
  dataDir: string
  devices: number
  deployments: number
  tables: TableCopy[]
  rows: number
  seconds: number
  migrationNotes: string[]
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/, '$1:***@')
}

/**
 * `margo db migrate`: moves a data dir's SQLite fleet into an empty PostgreSQL database. The data
 * dir's serve lock is held throughout, so a running server refuses the migration and a server
 * started meanwhile on the same directory is refused. The SQLite file is brought to this margo's
 * schema first (what serve would do at its next start) and is left in place otherwise.
 */
export function migrateToPostgres(opts: MigrateOptions): MigrateSummary {
  const t0 = performance.now()
  if (!isPostgresUrl(opts.to)) throw new UsageError(`--to must be a postgres:// or postgresql:// URL, not ${redactUrl(opts.to)}`)
  const dataDir = resolve(opts.dataDir)
  const files = dataDirFiles(dataDir)
  if (!existsSync(files.database)) throw new UsageError(`no SQLite fleet to migrate: ${files.database} does not exist`)
  const lock = acquireInstanceLock(files.serveLock, pid => new OperationError(`margo serve (pid ${pid}) is running on ${dataDir} — stop it before migrating (kill ${pid})`, {code: 'server_running'}))
  try {
    const source = new Store(files.database)
    try {
      const size = fleetSize(source.db)
      let target: Store
      try {
        target = new Store(opts.to, opts.schema ? {schema: opts.schema} : {})
      } catch (err) {
        throw new OperationError(`cannot open the PostgreSQL database ${redactUrl(opts.to)}: ${err instanceof Error ? err.message : String(err)}`, {code: 'database_unreachable', cause: err})
      }
      try {
        const tables = copySqliteToPostgres(source, target)
        return {
          dataDir, ...size, tables, rows: tables.reduce((n, t) => n + t.rows, 0),
          seconds: (performance.now() - t0) / 1000, migrationNotes: source.migrationNotes,
        }
      } finally {
        target.close()
      }
    } finally {
      source.close()
    }
  } finally {
    lock.release()
  }
}
