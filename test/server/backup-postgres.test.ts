import {afterAll, afterEach, expect, test} from 'bun:test'
import {Database} from 'bun:sqlite'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {evaluateManifest} from '../../src/agent/sync/manifest-check.ts'
import {openBackup} from '../../src/server/backup/archive.ts'
import {createBackup} from '../../src/server/backup/backup.ts'
import {unpackContents} from '../../src/server/backup/contents.ts'
import {restoreBackup} from '../../src/server/backup/restore.ts'
import {verifyAudit} from '../../src/server/audit/service.ts'
import {snapshotPostgres} from '../../src/server/store/snapshot-postgres.ts'
import {Store} from '../../src/server/store/store.ts'
import {APP, deploy, expectRestoredAsUpdate, KEY_FILES, ok, poll} from './backup-fixture.ts'
import {capabilitiesBody, createHarness, HELLO_WORLD, statusBody, TestDevice, type Harness} from './harness.ts'
import {TEST_DATABASE_URL} from './test-database.ts'

// The PostgreSQL half of margo backup / margo restore: needs MARGO_TEST_DATABASE_URL.
const onPostgres = test.skipIf(!TEST_DATABASE_URL)
const URL = TEST_DATABASE_URL!

const FAST = {N: 2 ** 10, r: 8, p: 1}
const KEY = {kind: 'passphrase' as const, passphrase: 'a passphrase for tests'}

const work = mkdtempSync(join(tmpdir(), 'margo-pg-backup-test-'))
const open: Harness[] = []
const schemas: string[] = []
afterEach(() => {
  for (const h of open.splice(0)) h.close()
  for (const schema of schemas.splice(0)) {
    const s = new Store(URL, {schema})
    try { s.db.exec(`DROP SCHEMA ${schema} CASCADE`) } finally { s.close() }
  }
})
afterAll(() => rmSync(work, {recursive: true, force: true}))

/** A schema name no other test uses, dropped after the test (unless a harness on it drops it). */
const newSchema = () => {
  const schema = `backup_${crypto.randomUUID().slice(0, 8)}`
  schemas.push(schema)
  return schema
}
const harnessOn = async (schema: string, dir?: string) => {
  schemas.splice(schemas.indexOf(schema), 1)
  const h = await createHarness({}, {schema, ...(dir ? {dir} : {})})
  open.push(h)
  return h
}

/** A fleet serving on PostgreSQL (or SQLite), one device onboarded, the app published, and the key files of a real data dir. */
async function fleet(engine: 'postgres' | 'sqlite' = 'postgres') {
  const schema = newSchema()
  const h = engine === 'postgres' ? await harnessOn(schema) : await createHarness({}, {sqlite: true})
  if (engine === 'sqlite') open.push(h)
  mkdirSync(join(h.dir, 'tls'), {mode: 0o700})
  for (const [name, text] of KEY_FILES) writeFileSync(join(h.dir, name), text, {mode: 0o600})
  const d = await TestDevice.create(h)
  await d.onboard()
  await ok(d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody()}))
  await ok(h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'}))
  return {h, d, schema}
}

const count = (s: Store, sql: string) => (s.db.query(sql).get() as {n: number}).n

onPostgres('a PostgreSQL fleet restored into an empty database: a device that accepted newer manifests than the backup takes the next one as an update', async () => {
  const {h, d, schema} = await fleet()
  const kept = await deploy(h, d.clientId)
  const file = join(work, 'pg-fleet.mbk')
  const backup = createBackup({dataDir: h.dir, database: URL, schema, file, key: KEY, margoVersion: 'test', scrypt: FAST})
  expect(backup).toMatchObject({engine: 'postgres', devices: 1, deployments: 1})
  expect(backup.files.sort()).toEqual(['margo.db', 'operator-token', 'secret.key', 'tls/ca.key', 'tls/ca.pem', 'tls/server.key', 'tls/server.pem'])
  expect(statSync(file).mode & 0o777).toBe(0o600)
  expect(unpackContents(openBackup(new Uint8Array(readFileSync(file)), KEY)).index.engine).toBe('postgres')

  // The fleet moves on after the backup: the device accepts a version the backup never saw.
  await deploy(h, d.clientId, {greeting: 'after the backup'})
  const accepted = await poll(d)
  expect(accepted.json.manifestVersion).toBe(3)

  const target = join(work, 'pg-restored')
  const restoredSchema = newSchema()
  const restored = restoreBackup({file, dataDir: target, database: URL, schema: restoredSchema, key: KEY})
  expect(restored).toMatchObject({engine: 'postgres', backupEngine: 'postgres', devices: 1, deployments: 1, reannounced: 1})
  // The data dir holds the keys only: the fleet is in PostgreSQL.
  expect(readdirSync(target).sort()).toEqual(['operator-token', 'secret.key', 'tls'])
  for (const secret of ['tls/ca.key', 'tls/server.key', 'operator-token', 'secret.key']) expect(statSync(join(target, secret)).mode & 0o777).toBe(0o600)
  expect(readFileSync(join(target, 'tls/ca.key'), 'utf8')).toBe('CA KEY')

  const r = await harnessOn(restoredSchema, target)
  await expectRestoredAsUpdate(r, d, accepted, restored.manifestVersionFloor, kept)
  expect(await (await ok(r.operator('GET', '/audit/verify'), 200)).json()).toMatchObject({ok: true})
})

onPostgres('the snapshot holds every table of the PostgreSQL database row for row, in the SQLite schema it matches', async () => {
  const {h, d, schema} = await fleet()
  await ok(h.operator('PUT', '/secrets/db-pass', {value: 's3cret value'}))
  const deployment = await deploy(h, d.clientId, {greeting: 'Hi ${secret:db-pass}'})
  await ok(h.operator('PUT', `/devices/${d.clientId}/labels`, {labels: {site: 'berlin'}}), 200)
  await ok(h.operator('POST', '/tokens', {name: 'ci', role: 'viewer'}))
  await ok(h.operator('POST', '/join-tokens', {labels: {site: 'a'}}))
  await ok(h.operator('POST', '/windows', {name: 'night', selector: 'site=berlin', schedule: '0 22 * * *', duration: '6h', timeZone: 'Europe/Berlin'}))
  await ok(h.operator('POST', '/registries', {name: 'apps', kind: 'git', url: '/srv/apps.git'}))
  await ok(h.operator('POST', '/rollouts', {appId: APP, name: 'fleet-wide', devices: [d.clientId]}))
  await poll(d)
  for (const state of ['installing', 'installed']) {
    await ok(d.send('POST', `/api/v1/clients/{clientId}/deployments/${deployment.deploymentId}/status`, {body: statusBody(deployment.deploymentId, state)}), 200)
  }
  // Ids handed out and then deleted stay handed out.
  h.store.db.exec('DELETE FROM status_reports WHERE id = (SELECT max(id) FROM status_reports)')

  const target = join(work, `snapshot-${schema}.db`)
  const snapshot = snapshotPostgres(URL, target, {schema})
  const pg = h.store
  const sqlite = new Database(target, {readonly: true})
  try {
    expect((sqlite.query('PRAGMA user_version').get() as {user_version: number}).user_version).toBe(snapshot.schemaVersion)
    const tables = pg.db.query(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_name <> 'schema_version' ORDER BY 1`).all(schema) as {t: string}[]
    expect(snapshot.tables.map(t => t.table).sort()).toEqual(tables.map(t => t.t))
    for (const table of ['clients', 'deployments', 'artifacts', 'manifests', 'status_reports', 'rollouts', 'operator_tokens', 'audit_log', 'secrets', 'registries', 'join_tokens', 'update_windows', 'app_versions']) {
      expect({table, rows: snapshot.tables.find(t => t.table === table)!.rows > 0}).toEqual({table, rows: true})
    }
    for (const {table} of snapshot.tables) {
      const columns = (pg.db.query('SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position').all(schema, table) as {c: string}[]).map(c => c.c)
      const list = columns.map(c => `"${c}"`).join(', ')
      const text = (rows: unknown[]) => rows.map(r => JSON.stringify(columns.map(c => {
        const v = (r as Record<string, unknown>)[c]
        return v instanceof Uint8Array ? `hex:${Buffer.from(v).toString('hex')}` : v
      }))).sort()
      expect({table, rows: text(sqlite.query(`SELECT ${list} FROM "${table}"`).all())}).toEqual({table, rows: text(pg.db.query(`SELECT ${list} FROM "${table}"`).all())})
    }
    const issued = (pg.db.query(`SELECT pg_sequence_last_value(pg_get_serial_sequence('status_reports', 'id')::regclass) AS n`).get() as {n: number}).n
    expect(sqlite.query(`SELECT seq FROM sqlite_sequence WHERE name = 'status_reports'`).get()).toEqual({seq: issued})
  } finally {
    sqlite.close()
  }
})

onPostgres('a backup taken while another node keeps writing is one committed state, and restores into a SQLite data dir', async () => {
  const {h, d, schema} = await fleet()
  await deploy(h, d.clientId)
  const writer = Bun.spawn(['bun', join(import.meta.dir, 'fixtures/pg-writer.ts'), URL, schema, d.clientId], {stdout: 'pipe', stderr: 'inherit'})
  const files: string[] = []
  try {
    const reader = writer.stdout.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('writing')
    for (let i = 0; i < 3; i++) {
      const file = join(work, `busy-${i}.mbk`)
      createBackup({dataDir: h.dir, database: URL, schema, file, key: KEY, margoVersion: 'test', scrypt: FAST})
      files.push(file)
    }
  } finally {
    writer.kill()
    await writer.exited
  }
  const ticks: number[] = []
  for (const [i, file] of files.entries()) {
    const target = join(work, `busy-${i}`)
    const restored = restoreBackup({file, dataDir: target, key: KEY})
    expect(restored).toMatchObject({engine: 'sqlite', backupEngine: 'postgres', devices: 1})
    const s = new Store(join(target, 'margo.db'))
    try {
      // Each writer transaction touched three tables: the copy holds whole transactions only.
      const audited = count(s, `SELECT count(*) AS n FROM audit_log WHERE action = 'writer.tick'`)
      const denied = count(s, `SELECT count(*) AS n FROM denied_certificates WHERE value LIKE 'tick-%'`)
      const label = Number(s.getClient(d.clientId)!.labels.tick)
      expect({audited, denied}).toEqual({audited: label, denied: label})
      expect(verifyAudit(s)).toMatchObject({ok: true})
      ticks.push(label)
    } finally {
      s.close()
    }
  }
  // The writer went on between the backups: they are three moments, not one.
  expect(ticks[2]!).toBeGreaterThan(ticks[0]!)
  // And the SQLite copy serves: the device is known, its manifest above the floor.
  const r = await createHarness({}, {dir: join(work, 'busy-0'), sqlite: true})
  open.push(r)
  expect((await poll(d.to(r))).json.manifestVersion).toBeGreaterThan(1e15)
})

onPostgres('a database holding data is refused with exit code 2 and left as it was; a wrong passphrase or an altered file touch nothing', async () => {
  const {h, schema} = await fleet()
  const file = join(work, 'refusals.mbk')
  createBackup({dataDir: h.dir, database: URL, schema, file, key: KEY, margoVersion: 'test', scrypt: FAST})
  const before = count(h.store, 'SELECT count(*) AS n FROM audit_log')
  const target = join(work, 'pg-refusals')

  let err: (Error & {exitCode?: number}) | undefined
  try { restoreBackup({file, dataDir: target, database: URL, schema, key: KEY}) } catch (e) { err = e as Error }
  expect(err?.message).toMatch(/^refusing to restore into postgres:\/\/\S+: the database already holds data \(tables .*clients.*\) — restore into an empty database$/)
  expect(err?.exitCode).toBe(2)
  expect(count(h.store, 'SELECT count(*) AS n FROM clients')).toBe(1)
  expect(count(h.store, 'SELECT count(*) AS n FROM audit_log')).toBe(before)
  expect(existsSync(target)).toBe(false)

  const fresh = newSchema()
  const tablesIn = (s: string) => count(h.store, `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = '${s}'`)
  expect(() => restoreBackup({file, dataDir: target, database: URL, schema: fresh, key: {kind: 'passphrase', passphrase: 'not the passphrase'}})).toThrow('wrong passphrase')
  const altered = readFileSync(file)
  altered[altered.length - 100]! ^= 0x40
  writeFileSync(join(work, 'pg-altered.mbk'), altered)
  expect(() => restoreBackup({file: join(work, 'pg-altered.mbk'), dataDir: target, database: URL, schema: fresh, key: KEY})).toThrow('altered or damaged')
  expect(tablesIn(fresh)).toBe(0)
  expect(existsSync(target)).toBe(false)
  expect(readdirSync(work).filter(n => n.includes('.restore-'))).toEqual([])

  // margo's schema with no rows in it (a server started once and stopped) is an empty database.
  new Store(URL, {schema: fresh}).close()
  expect(restoreBackup({file, dataDir: target, database: URL, schema: fresh, key: KEY}).devices).toBe(1)
})

onPostgres('a SQLite backup restores into PostgreSQL: the device takes the restored server\'s manifest', async () => {
  const {h, d} = await fleet('sqlite')
  await deploy(h, d.clientId)
  const accepted = await poll(d)
  const file = join(work, 'sqlite-to-pg.mbk')
  expect(createBackup({dataDir: h.dir, file, key: KEY, margoVersion: 'test', scrypt: FAST}).engine).toBe('sqlite')
  const schema = newSchema()
  const target = join(work, 'sqlite-to-pg')
  const restored = restoreBackup({file, dataDir: target, database: URL, schema, key: KEY})
  expect(restored).toMatchObject({engine: 'postgres', backupEngine: 'sqlite', devices: 1, deployments: 1, reannounced: 1})
  const r = await harnessOn(schema, target)
  const after = await poll(d.to(r))
  expect(after.json.manifestVersion).toBeGreaterThanOrEqual(restored.manifestVersionFloor)
  expect(evaluateManifest({manifestVersion: accepted.json.manifestVersion, etag: accepted.etag!}, after).kind).toBe('accept')
})

test('--database must name PostgreSQL, for a backup and for a restore', () => {
  const dir = mkdtempSync(join(work, 'flags-'))
  expect(() => createBackup({dataDir: dir, database: 'sqlite:///x.db', file: join(dir, 'x.mbk'), key: KEY, margoVersion: 'test'})).toThrow('--database must be a postgres:// or postgresql:// URL')
  expect(() => restoreBackup({file: join(dir, 'x.mbk'), dataDir: join(dir, 'to'), database: 'mysql://x', key: KEY})).toThrow('--database must be a postgres:// or postgresql:// URL')
  expect(() => createBackup({dataDir: join(dir, 'nowhere'), database: 'postgres://margo@127.0.0.1:1/none', file: join(dir, 'x.mbk'), key: KEY, margoVersion: 'test'})).toThrow(/^no data dir .*nowhere: it holds the CA/)
})
