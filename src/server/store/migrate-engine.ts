import {OperationError, UsageError} from '../../util/errors.ts'
import type {SqlValue} from './engine.ts'
import type {Store} from './store.ts'

export interface TableCopy {
  table: string
  rows: number
}

/** Rows per INSERT: few round trips to the worker thread, far below PostgreSQL's 65,535 parameters. */
const MAX_ROWS_PER_INSERT = 500
const MAX_PARAMETERS = 30_000

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`

/** The tables of a SQLite store's schema (its internal ones aside), each with its columns. */
export function sqliteTables(source: Store): Map<string, string[]> {
  const tables = source.db.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as {name: string}[]
  return new Map(tables.map(({name}) => [name, (source.db.query('SELECT name FROM pragma_table_info(?) ORDER BY cid').all(name) as {name: string}[]).map(c => c.name)]))
}

function postgresTables(target: Store): Map<string, string[]> {
  const rows = target.db.query(`SELECT table_name AS t, column_name AS c FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name <> 'schema_version' ORDER BY table_name, ordinal_position`).all() as {t: string, c: string}[]
  const out = new Map<string, string[]>()
  for (const r of rows) out.set(r.t, [...(out.get(r.t) ?? []), r.c])
  return out
}

/**
 * Tables in an order that inserts every referenced row before the rows referring to it: the
 * target checks foreign keys statement by statement. The references are read from the source.
 */
export function insertionOrder(source: Store, tables: string[]): string[] {
  const refs = new Map(tables.map(t => [t, (source.db.query('SELECT DISTINCT "table" AS parent FROM pragma_foreign_key_list(?)').all(t) as {parent: string}[]).map(r => r.parent).filter(p => p !== t)]))
  const done = new Set<string>()
  const order: string[] = []
  const visit = (t: string, path: string[]) => {
    if (done.has(t)) return
    if (path.includes(t)) throw new OperationError(`the tables ${[...path, t].join(' → ')} refer to one another in a cycle: no insertion order exists`)
    for (const p of refs.get(t) ?? []) if (refs.has(p)) visit(p, [...path, t])
    done.add(t)
    order.push(t)
  }
  for (const t of tables) visit(t, [])
  return order
}

/**
 * Copies every row of every table of a SQLite store into a PostgreSQL store whose tables are
 * empty, in one transaction that also holds the write lock every serve node takes, and checks
 * the row count of each table before it commits: the target ends with the whole fleet or with
 * nothing. Values are copied as stored — client ids, certificates, manifest versions and
 * floors, the audit chain's seq and hashes, sealed secrets — so devices and auditors see no
 * difference. Identity sequences continue after the highest id SQLite ever handed out.
 */
export function copySqliteToPostgres(source: Store, target: Store): TableCopy[] {
  if (source.engine !== 'sqlite' || target.engine !== 'postgres') throw new OperationError('a migration copies a SQLite store into a PostgreSQL one')
  const from = sqliteTables(source)
  const to = postgresTables(target)
  const unknown = [...from.keys()].filter(t => !to.has(t))
  if (unknown.length > 0) throw new OperationError(`the PostgreSQL schema has no table ${unknown.join(', ')} of the SQLite database: this margo cannot migrate it (a newer SQLite schema?)`, {code: 'unknown_table'})
  for (const [t, columns] of from) {
    const missing = columns.filter(c => !to.get(t)!.includes(c))
    if (missing.length > 0) throw new OperationError(`the PostgreSQL table ${t} has no column ${missing.join(', ')} of the SQLite database`, {code: 'unknown_column'})
  }
  const order = insertionOrder(source, [...from.keys()])
  return target.db.transaction(() => {
    const occupied = [...to.keys()].filter(t => target.db.query(`SELECT 1 AS x FROM ${quote(t)} LIMIT 1`).get() !== null)
    if (occupied.length > 0) throw new UsageError(`refusing to migrate: the PostgreSQL database already holds margo data (tables ${occupied.join(', ')}) — migrate into an empty database`, {code: 'target_not_empty'})
    const copies = order.map(table => ({table, rows: copyTable(source, target, table, from.get(table)!)}))
    continueSequences(source, target)
    for (const {table, rows} of copies) {
      const landed = (target.db.query(`SELECT count(*) AS n FROM ${quote(table)}`).get() as {n: number}).n
      if (landed !== rows) throw new OperationError(`table ${table}: ${rows} row(s) in SQLite, ${landed} in PostgreSQL after the copy — nothing was committed`, {code: 'count_mismatch'})
    }
    return copies
  }).immediate()
}

function copyTable(source: Store, target: Store, table: string, columns: string[]): number {
  const perInsert = Math.max(1, Math.min(MAX_ROWS_PER_INSERT, Math.floor(MAX_PARAMETERS / columns.length)))
  const names = columns.map(quote).join(', ')
  const tuple = `(${columns.map(() => '?').join(', ')})`
  const insert = (n: number) => `INSERT INTO ${quote(table)} (${names}) VALUES ${Array.from({length: n}, () => tuple).join(', ')}`
  let batch: SqlValue[] = []
  let rows = 0
  let inBatch = 0
  const flush = () => {
    if (inBatch === 0) return
    target.db.query(insert(inBatch)).run(...batch)
    batch = []
    inBatch = 0
  }
  // rowid order: ids and the audit chain arrive in the order they were written.
  for (const row of source.db.query(`SELECT ${names} FROM ${quote(table)} ORDER BY rowid`).iterate() as IterableIterator<Record<string, SqlValue>>) {
    for (const c of columns) batch.push(row[c] ?? null)
    rows++
    if (++inBatch === perInsert) flush()
  }
  flush()
  return rows
}

/**
 * Identity columns (status report ids, event ids) continue after the highest id SQLite handed
 * out, deleted rows included (sqlite_sequence), so an event id a watcher last saw is never reused.
 */
function continueSequences(source: Store, target: Store): void {
  const identities = target.db.query(`SELECT table_name AS t, column_name AS c FROM information_schema.columns
    WHERE table_schema = current_schema() AND is_identity = 'YES'`).all() as {t: string, c: string}[]
  const hasSequences = source.db.query(`SELECT 1 AS x FROM sqlite_master WHERE name = 'sqlite_sequence'`).get() !== null
  for (const {t, c} of identities) {
    const max = (target.db.query(`SELECT coalesce(max(${quote(c)}), 0) AS n FROM ${quote(t)}`).get() as {n: number}).n
    const issued = hasSequences ? ((source.db.query('SELECT seq FROM sqlite_sequence WHERE name = ?').get(t) as {seq: number} | null)?.seq ?? 0) : 0
    const last = Math.max(max, issued)
    if (last > 0) target.db.query(`SELECT setval(pg_get_serial_sequence(?, ?), ?)`).get(quote(t), c, last)
  }
}
