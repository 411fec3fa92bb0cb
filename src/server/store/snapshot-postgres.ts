import {Database} from 'bun:sqlite'
import {OperationError} from '../../util/errors.ts'
import type {SqlDatabase, SqlValue} from './engine.ts'
import type {TableCopy} from './migrate-engine.ts'
import {PostgresDatabase} from './postgres/database.ts'
import {POSTGRES_MIGRATIONS} from './postgres/schema.ts'
import {MIGRATIONS} from './schema.ts'

/**
 * PostgreSQL's schema version 1 is the end state of SQLite's first migrations, and each later
 * version is one appended to both lists: the SQLite version a PostgreSQL version matches.
 */
export function sqliteVersionOf(postgresVersion: number): number {
  return postgresVersion + MIGRATIONS.length - POSTGRES_MIGRATIONS.length
}

/** Rows per FETCH: a few hundred kilobytes per round trip, whatever the table's size. */
const FETCH_ROWS = 1000

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`

export interface PostgresSnapshot {
  tables: TableCopy[]
  /** The SQLite schema version the snapshot file was written in. */
  schemaVersion: number
  /** The PostgreSQL schema version it was read from. */
  postgresSchemaVersion: number
}

/**
 * Writes one consistent snapshot of a PostgreSQL store into a new SQLite file of margo's own
 * schema, the reverse of `copySqliteToPostgres`: every table, values as stored, row counts
 * checked. Everything is read in one `REPEATABLE READ READ ONLY` transaction, so the file holds
 * the database as it was at one moment, whatever the serve nodes commit meanwhile (their write
 * transactions are atomic and queue on one lock, so that moment lies between two of them); the
 * snapshot neither waits for them nor holds them up. Nothing is written to PostgreSQL and its
 * schema is not migrated. `target` must not exist.
 */
export function snapshotPostgres(url: string, target: string, options: {schema?: string} = {}): PostgresSnapshot {
  const pg = new PostgresDatabase(url, options.schema ? {schema: options.schema} : {})
  try {
    pg.exec('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    try {
      const snapshot = copyInto(pg, target)
      pg.exec('COMMIT')
      return snapshot
    } catch (err) {
      try { pg.exec('ROLLBACK') } catch { /* the connection is gone, and the transaction with it */ }
      throw err
    }
  } finally {
    pg.close()
  }
}

function copyInto(pg: PostgresDatabase, target: string): PostgresSnapshot {
  const hasSchema = (pg.query(`SELECT to_regclass('schema_version') IS NOT NULL AS found`).get() as {found: boolean}).found
  if (!hasSchema) throw new OperationError('the PostgreSQL database holds no margo schema (no schema_version table): is --database right?', {code: 'not_found'})
  const postgresSchemaVersion = (pg.query('SELECT coalesce(max(version), 0) AS v FROM schema_version').get() as {v: number}).v
  if (postgresSchemaVersion > POSTGRES_MIGRATIONS.length) {
    throw new OperationError(`the PostgreSQL database is at schema ${postgresSchemaVersion}, newer than this margo knows (${POSTGRES_MIGRATIONS.length}): back it up with the margo that serves it`, {code: 'newer_schema'})
  }
  const schemaVersion = sqliteVersionOf(postgresSchemaVersion)
  const from = postgresTables(pg)
  const keys = primaryKeys(pg)
  const sqlite = newSqliteAt(target, schemaVersion)
  try {
    const to = sqliteTableColumns(sqlite)
    for (const [t, columns] of from) {
      const known = to.get(t)
      if (!known) throw new OperationError(`margo's SQLite schema ${schemaVersion} has no table ${t} of the PostgreSQL database: this margo cannot back it up`, {code: 'unknown_table'})
      const missing = columns.filter(c => !known.includes(c))
      if (missing.length > 0) throw new OperationError(`margo's SQLite table ${t} has no column ${missing.join(', ')} of the PostgreSQL database`, {code: 'unknown_column'})
    }
    const tables = sqlite.transaction(() => {
      const copies = [...from].map(([table, columns]) => ({table, rows: copyTable(pg, sqlite, table, columns, keys.get(table) ?? [])}))
      for (const {table, rows} of copies) {
        const source = (pg.query(`SELECT count(*) AS n FROM ${quote(table)}`).get() as {n: number}).n
        if (source !== rows) throw new OperationError(`table ${table}: ${source} row(s) in PostgreSQL, ${rows} in the snapshot`, {code: 'count_mismatch'})
      }
      keepSequences(pg, sqlite)
      return copies
    }).immediate()
    return {tables, schemaVersion, postgresSchemaVersion}
  } finally {
    sqlite.close()
  }
}

/** The tables of the connection's schema (schema_version aside: SQLite keeps it in user_version), each with its columns. */
function postgresTables(pg: SqlDatabase): Map<string, string[]> {
  const rows = pg.query(`SELECT table_name AS t, column_name AS c FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name <> 'schema_version' ORDER BY table_name, ordinal_position`).all() as {t: string, c: string}[]
  const out = new Map<string, string[]>()
  for (const r of rows) out.set(r.t, [...(out.get(r.t) ?? []), r.c])
  return out
}

function primaryKeys(pg: SqlDatabase): Map<string, string[]> {
  const rows = pg.query(`SELECT k.table_name AS t, k.column_name AS c FROM information_schema.table_constraints tc
    JOIN information_schema.key_column_usage k ON k.constraint_schema = tc.constraint_schema AND k.constraint_name = tc.constraint_name
    WHERE tc.table_schema = current_schema() AND tc.constraint_type = 'PRIMARY KEY' ORDER BY k.table_name, k.ordinal_position`).all() as {t: string, c: string}[]
  const out = new Map<string, string[]>()
  for (const r of rows) out.set(r.t, [...(out.get(r.t) ?? []), r.c])
  return out
}

/**
 * An empty SQLite database at `version` of margo's migrations: the version the PostgreSQL schema
 * matches, so the backup restores like any other of that version (restore migrates it onward).
 * Scratch until the backup is sealed, so no journal and no fsync.
 */
function newSqliteAt(path: string, version: number): Database {
  const db = new Database(path, {create: true, strict: true})
  try {
    db.exec('PRAGMA journal_mode = OFF')
    db.exec('PRAGMA synchronous = OFF')
    for (const step of MIGRATIONS.slice(0, version)) {
      db.transaction(() => {
        if (typeof step === 'string') db.exec(step)
        else step(db)
      })()
    }
    db.exec(`PRAGMA user_version = ${version}`)
    // A migration may leave notes even on an empty database; the snapshot holds PostgreSQL's rows only.
    for (const t of sqliteTableColumns(db).keys()) db.exec(`DELETE FROM ${quote(t)}`)
    if (db.query(`SELECT 1 AS x FROM sqlite_master WHERE name = 'sqlite_sequence'`).get()) db.exec('DELETE FROM sqlite_sequence')
    return db
  } catch (err) {
    db.close()
    throw err
  }
}

function sqliteTableColumns(db: Database): Map<string, string[]> {
  const tables = db.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as {name: string}[]
  return new Map(tables.map(({name}) => [name, (db.query('SELECT name FROM pragma_table_info(?) ORDER BY cid').all(name) as {name: string}[]).map(c => c.name)]))
}

/** Copies one table through a cursor in primary key order (ids and the audit chain in the order they were written). */
function copyTable(pg: SqlDatabase, sqlite: Database, table: string, columns: string[], key: string[]): number {
  const names = columns.map(quote).join(', ')
  const order = key.length > 0 ? ` ORDER BY ${key.map(quote).join(', ')}` : ''
  const insert = sqlite.query(`INSERT INTO ${quote(table)} (${names}) VALUES (${columns.map(() => '?').join(', ')})`)
  pg.exec(`DECLARE margo_snapshot NO SCROLL CURSOR FOR SELECT ${names} FROM ${quote(table)}${order}`)
  let rows = 0
  for (;;) {
    const batch = pg.query(`FETCH ${FETCH_ROWS} FROM margo_snapshot`).all() as Record<string, unknown>[]
    for (const row of batch) insert.run(...columns.map(c => stored(row[c], table, c)))
    rows += batch.length
    if (batch.length < FETCH_ROWS) break
  }
  pg.exec('CLOSE margo_snapshot')
  return rows
}

/** Values cross as stored: text, numbers, bytes or null. Anything else is a column type this copy does not know. */
function stored(v: unknown, table: string, column: string): SqlValue {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || v instanceof Uint8Array) return v
  throw new OperationError(`table ${table}, column ${column}: a value of a type the snapshot does not copy (${typeof v})`, {code: 'unknown_type'})
}

/**
 * Identity columns continue after the highest id PostgreSQL handed out, deleted rows included,
 * so an event id a watcher last saw is not reused by a server restored from this snapshot.
 * (Sequences are outside transactions: this reads their value now, at or past the snapshot's.)
 */
function keepSequences(pg: SqlDatabase, sqlite: Database): void {
  const counted = new Set((sqlite.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'`).all() as {name: string}[]).map(r => r.name))
  if (counted.size === 0) return
  const identities = pg.query(`SELECT table_name AS t, column_name AS c FROM information_schema.columns
    WHERE table_schema = current_schema() AND is_identity = 'YES'`).all() as {t: string, c: string}[]
  for (const {t, c} of identities.filter(i => counted.has(i.t))) {
    const issued = (pg.query('SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence(?, ?)::regclass), 0) AS n').get(quote(t), c) as {n: number}).n
    if (issued === 0) continue
    sqlite.query('UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?').run(issued, t)
    sqlite.query('INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)').run(t, issued, t)
  }
}

/**
 * The tables of a PostgreSQL store's schema that hold rows (its schema version aside), without
 * migrating or otherwise touching it: a restore goes into a database where this is empty.
 */
export function occupiedPostgresTables(url: string, options: {schema?: string} = {}): string[] {
  const pg = new PostgresDatabase(url, options.schema ? {schema: options.schema} : {})
  try {
    const tables = pg.query(`SELECT table_name AS t FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_version' ORDER BY table_name`).all() as {t: string}[]
    return tables.map(r => r.t).filter(t => pg.query(`SELECT 1 AS x FROM ${quote(t)} LIMIT 1`).get() !== null)
  } finally {
    pg.close()
  }
}
