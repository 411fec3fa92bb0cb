import {expect, test} from 'bun:test'
import {POSTGRES_MIGRATIONS} from '../../../src/server/store/postgres/schema.ts'
import {Store} from '../../../src/server/store/store.ts'
import {TEST_DATABASE_URL} from '../../server/test-database.ts'

/** These need PostgreSQL: MARGO_TEST_DATABASE_URL (CI starts a private cluster for it). */
const onPostgres = test.skipIf(!TEST_DATABASE_URL)
const open = (schema = `engine_${crypto.randomUUID().slice(0, 8)}`) => new Store(TEST_DATABASE_URL!, {schema})

function sqliteColumns(): Map<string, string[]> {
  const s = new Store(':memory:')
  const tables = s.db.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as {name: string}[]
  const out = new Map(tables.map(t => [t.name, (s.db.query(`SELECT name FROM pragma_table_info('${t.name}')`).all() as {name: string}[]).map(c => c.name).sort()]))
  s.close()
  return out
}

onPostgres('the PostgreSQL schema has the tables and columns the SQLite migrations end with', () => {
  const s = open()
  const rows = s.db.query(`SELECT table_name AS t, column_name AS c FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name <> 'schema_version' ORDER BY 1, 2`).all() as {t: string, c: string}[]
  s.close()
  const pg = new Map<string, string[]>()
  for (const r of rows) pg.set(r.t, [...(pg.get(r.t) ?? []), r.c])
  const expected = sqliteColumns()
  expect([...pg.keys()].sort()).toEqual([...expected.keys()].sort())
  for (const [table, columns] of expected) expect({table, columns: pg.get(table)?.sort()}).toEqual({table, columns})
})

onPostgres('bytes, 64-bit numbers and nulls read back as SQLite answers them; a second open migrates nothing', () => {
  const schema = `engine_${crypto.randomUUID().slice(0, 8)}`
  const s = open(schema)
  s.putArtifact('sha256:x', 'text/plain', new Uint8Array([0, 1, 255]), '2026-01-01T00:00:00Z')
  expect(s.getArtifact('sha256:x')).toEqual({mediaType: 'text/plain', bytes: new Uint8Array([0, 1, 255])})
  s.db.query('INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)').run('l', 'h', 1_780_000_000_000)
  expect(s.db.query('SELECT expires_at, NULL AS nothing FROM leases').get()).toEqual({expires_at: 1_780_000_000_000, nothing: null})
  s.close()
  const again = open(schema)
  expect(again.db.query('SELECT count(*) AS n FROM schema_version').get()).toEqual({n: POSTGRES_MIGRATIONS.length})
  again.close()
})

onPostgres('a failed transaction leaves nothing behind, a nested one rolls back to its savepoint', () => {
  const s = open()
  const put = (v: string) => s.db.query('INSERT INTO denied_certificates (value, created_at) VALUES (?, ?)').run(v, 'now')
  expect(() => s.transaction(() => { put('a'); throw new Error('no') })).toThrow('no')
  s.transaction(() => {
    put('b')
    expect(() => s.transaction(() => { put('c'); throw new Error('inner') })).toThrow('inner')
  })
  expect(s.listDenied().map(d => d.value)).toEqual(['b'])
  expect(s.db.inTransaction).toBe(false)
  s.close()
})

onPostgres('a database a newer margo migrated is refused with what to do, and left as it is', () => {
  const schema = `engine_${crypto.randomUUID().slice(0, 8)}`
  const s = open(schema)
  s.db.query('INSERT INTO schema_version (version) VALUES (?)').run(POSTGRES_MIGRATIONS.length + 1)
  s.close()
  expect(() => open(schema)).toThrow(`the database is at schema version ${POSTGRES_MIGRATIONS.length + 1}, newer than this margo knows (${POSTGRES_MIGRATIONS.length})`)
  const admin = new Store(TEST_DATABASE_URL!, {schema: `engine_${crypto.randomUUID().slice(0, 8)}`})
  expect(admin.db.query(`SELECT max(version) AS v FROM ${schema}.schema_version`).get()).toEqual({v: POSTGRES_MIGRATIONS.length + 1})
  admin.close()
})
