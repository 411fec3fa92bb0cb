import {Database} from 'bun:sqlite'
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Store} from '../../src/server/store/store.ts'

/**
 * The engine the server tests run on: SQLite by default, PostgreSQL when MARGO_TEST_DATABASE_URL
 * names one (CI runs the suite once more that way). Each test store on PostgreSQL gets a schema
 * of its own, dropped when it is closed.
 */
export const TEST_DATABASE_URL = process.env.MARGO_TEST_DATABASE_URL || undefined

export interface TestDatabase {
  /** Opens the test's store: again after a close, it is the same data ("a restart"). */
  open(): Store
  /** Forgets the data (the SQLite file goes with the test's directory). */
  drop(): void
  /** Runs SQL as someone with access to the database but not the server would (tampering). */
  tamper(sql: string): void
  /** Everything stored, as bytes: the SQLite file, or every row of every table as text. */
  atRest(): Buffer
}

/**
 * `dir`: where a SQLite test keeps its file; null: SQLite in memory. `sqlite`: SQLite whatever the suite
 * runs on; `schema`: on PostgreSQL, this schema (e.g. one a migration filled) instead of a new one.
 */
export function testDatabase(dir: string | null, options: {sqlite?: boolean, schema?: string} = {}): TestDatabase {
  if (!TEST_DATABASE_URL || options.sqlite) {
    const path = dir ? join(dir, 'margo.db') : ':memory:'
    return {
      open: () => new Store(path),
      drop() {},
      tamper(sql) {
        const db = new Database(path)
        try { db.exec(sql) } finally { db.close() }
      },
      atRest: () => readFileSync(path),
    }
  }
  const url = TEST_DATABASE_URL
  const schema = options.schema ?? `test_${randomBytes(6).toString('hex')}`
  const withStore = <T>(fn: (s: Store) => T): T => {
    const s = new Store(url, {schema})
    try { return fn(s) } finally { s.close() }
  }
  return {
    open: () => new Store(url, {schema}),
    drop: () => withStore(s => s.db.exec(`DROP SCHEMA ${schema} CASCADE`)),
    tamper: sql => withStore(s => s.db.exec(sql)),
    atRest: () => withStore(s => {
      const tables = s.db.query('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ?').all(schema) as {t: string}[]
      const text = tables.map(({t}) => (s.db.query(`SELECT coalesce(string_agg(row_to_json(x)::text, E'\\n'), '') AS rows FROM "${t}" x`).get() as {rows: string}).rows)
      return Buffer.from(text.join('\n'))
    }),
  }
}
