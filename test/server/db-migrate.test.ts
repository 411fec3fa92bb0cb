import {afterEach, expect, test} from 'bun:test'
import {Database} from 'bun:sqlite'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {migrateToPostgres} from '../../src/server/db-migrate.ts'
import {sqliteTables} from '../../src/server/store/migrate-engine.ts'
import {Store} from '../../src/server/store/store.ts'
import {capabilitiesBody, createHarness, HELLO_WORLD, statusBody, TestDevice, type Harness} from './harness.ts'
import {TEST_DATABASE_URL} from './test-database.ts'

// The source is always a SQLite data dir; the target needs PostgreSQL (MARGO_TEST_DATABASE_URL).
const onPostgres = test.skipIf(!TEST_DATABASE_URL)
const MANIFEST = '/api/v1/clients/{clientId}/deployments'
const APP = 'com-northstartida-hello-world'

const open: Harness[] = []
const schemas: string[] = []
afterEach(() => {
  for (const h of open.splice(0)) h.close()
  for (const schema of schemas.splice(0)) {
    const s = new Store(TEST_DATABASE_URL!, {schema})
    try { s.db.exec(`DROP SCHEMA ${schema} CASCADE`) } finally { s.close() }
  }
})
const newSchema = () => {
  const schema = `migrate_${crypto.randomUUID().slice(0, 8)}`
  schemas.push(schema)
  return schema
}

async function ok(res: Promise<Response>, status = 201) {
  const r = await res
  if (r.status !== status) throw new Error(`${r.status} ${await r.text()}`)
  return r
}

/** A SQLite fleet with a row in as many tables as the operator and device APIs fill. */
async function fleet() {
  const h = await createHarness({}, {sqlite: true})
  open.push(h)
  const devices = [await TestDevice.create(h), await TestDevice.create(h, 'ed25519')]
  for (const d of devices) {
    await d.onboard()
    await ok(d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody()}))
  }
  const [a, b] = devices as [TestDevice, TestDevice]
  await ok(h.operator('PUT', `/devices/${a.clientId}/labels`, {labels: {site: 'berlin', line: '2'}}), 200)
  await ok(h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'}))
  await ok(h.operator('PUT', '/secrets/db-pass', {value: 's3cret value'}))
  const deployment = (await (await ok(h.operator('POST', '/deployments', {appId: APP, clientId: a.clientId, values: {greeting: 'Hi ${secret:db-pass}'}}))).json()) as {deploymentId: string}
  await ok(h.operator('POST', '/rollouts', {appId: APP, name: 'fleet-wide', devices: [b.clientId]}))
  await ok(h.operator('POST', '/tokens', {name: 'ci', role: 'viewer'}))
  await ok(h.operator('POST', '/join-tokens', {labels: {site: 'a'}}))
  await ok(h.operator('POST', '/windows', {name: 'night', selector: 'site=berlin', schedule: '0 22 * * *', duration: '6h', timeZone: 'Europe/Berlin'}))
  await ok(h.operator('POST', '/registries', {name: 'apps', kind: 'git', url: '/srv/apps.git'}))
  const manifest = await ok(a.send('GET', MANIFEST), 200)
  for (const state of ['installing', 'installed', 'installed']) {
    await ok(a.send('POST', `/api/v1/clients/{clientId}/deployments/${deployment.deploymentId}/status`, {body: statusBody(deployment.deploymentId, state)}), 200)
  }
  h.store.close()
  return {h, a, b, etag: manifest.headers.get('etag')!, version: ((await manifest.json()) as {manifestVersion: number}).manifestVersion}
}

/** Every row of a table as comparable text (bytes as hex), in a stable order. */
function rowsOf(rows: Record<string, unknown>[], columns: string[]): string[] {
  return rows.map(r => JSON.stringify(columns.map(c => {
    const v = r[c]
    return v instanceof Uint8Array ? `hex:${Buffer.from(v).toString('hex')}` : v
  }))).sort()
}

onPostgres('every table moves row for row; the devices keep their clientIds and manifest versions on PostgreSQL', async () => {
  const {h, a, etag, version} = await fleet()
  const schema = newSchema()
  const summary = migrateToPostgres({dataDir: h.dir, to: TEST_DATABASE_URL!, schema})
  expect(summary).toMatchObject({devices: 2, deployments: 2})

  const sqlite = new Database(join(h.dir, 'margo.db'), {readonly: true})
  const pg = new Store(TEST_DATABASE_URL!, {schema})
  try {
    const source = new Store(join(h.dir, 'margo.db'))
    const tables = sqliteTables(source)
    source.close()
    expect(summary.tables.map(t => t.table).sort()).toEqual([...tables.keys()].sort())
    for (const table of ['clients', 'deployments', 'artifacts', 'manifests', 'status_reports', 'rollouts', 'rollout_revisions', 'operator_tokens', 'audit_log', 'secrets', 'registries', 'join_tokens', 'update_windows', 'app_versions']) {
      expect({table, empty: summary.tables.find(t => t.table === table)!.rows === 0}).toEqual({table, empty: false})
    }
    for (const [table, columns] of tables) {
      const list = columns.map(c => `"${c}"`).join(', ')
      const from = rowsOf(sqlite.query(`SELECT ${list} FROM "${table}"`).all() as Record<string, unknown>[], columns)
      const to = rowsOf(pg.db.query(`SELECT ${list} FROM "${table}"`).all() as Record<string, unknown>[], columns)
      expect({table, rows: to}).toEqual({table, rows: from})
    }
    // New ids continue after SQLite's: a status report or an event gets a fresh one.
    const maxId = (sqlite.query('SELECT max(id) AS n FROM status_reports').get() as {n: number}).n
    pg.db.query('INSERT INTO status_reports (deployment_id, client_id, state, components_json, received_at) VALUES (?, ?, ?, ?, ?)').run('d', 'c', 'installed', '[]', 'now')
    expect((pg.db.query('SELECT max(id) AS n FROM status_reports').get() as {n: number}).n).toBe(maxId + 1)
    pg.db.exec(`DELETE FROM status_reports WHERE deployment_id = 'd'`)
  } finally {
    sqlite.close()
    pg.close()
  }

  // The same device, same key and clientId, talking to a server on the PostgreSQL copy.
  const r = await createHarness({}, {schema})
  open.push(r)
  schemas.splice(schemas.indexOf(schema), 1)
  const moved = a.to(r)
  expect((await moved.send('GET', MANIFEST, {headers: {'if-none-match': etag}})).status).toBe(304)
  await ok(r.operator('POST', '/deployments', {appId: APP, clientId: a.clientId, values: {greeting: 'after the move'}}))
  const next = await ok(moved.send('GET', MANIFEST), 200)
  expect(((await next.json()) as {manifestVersion: number}).manifestVersion).toBe(version + 1)
  // The audit chain written on SQLite goes on unbroken on PostgreSQL.
  const verified = await ok(r.operator('GET', '/audit/verify'), 200)
  expect(await verified.json()).toMatchObject({ok: true})
})

onPostgres('a database that already holds margo data is refused with exit code 2, and keeps its data', async () => {
  const {h} = await fleet()
  const schema = newSchema()
  migrateToPostgres({dataDir: h.dir, to: TEST_DATABASE_URL!, schema})
  let err: (Error & {exitCode?: number}) | undefined
  try { migrateToPostgres({dataDir: h.dir, to: TEST_DATABASE_URL!, schema}) } catch (e) { err = e as Error }
  expect(err?.message).toMatch(/^refusing to migrate: the PostgreSQL database already holds margo data \(tables .*clients/)
  expect(err?.exitCode).toBe(2)
  const pg = new Store(TEST_DATABASE_URL!, {schema})
  try {
    expect((pg.db.query('SELECT count(*) AS n FROM clients').get() as {n: number}).n).toBe(2)
  } finally {
    pg.close()
  }
})

onPostgres('a table PostgreSQL does not know fails the migration loudly, and nothing is copied', async () => {
  const {h} = await fleet()
  const db = new Database(join(h.dir, 'margo.db'))
  db.exec('CREATE TABLE gadgets (id INTEGER PRIMARY KEY)')
  db.close()
  const schema = newSchema()
  expect(() => migrateToPostgres({dataDir: h.dir, to: TEST_DATABASE_URL!, schema})).toThrow('the PostgreSQL schema has no table gadgets')
  const pg = new Store(TEST_DATABASE_URL!, {schema})
  try {
    expect((pg.db.query('SELECT count(*) AS n FROM clients').get() as {n: number}).n).toBe(0)
  } finally {
    pg.close()
  }
})

test('a data dir a live margo serve holds is refused before anything is read', async () => {
  const h = await createHarness({}, {sqlite: true})
  open.push(h)
  // A live process whose command line says serve, as the lock's holder.
  const serve = Bun.spawn(['sh', '-c', 'sleep 30; exit 0', 'serve'])
  try {
    // Until the child has exec'd, /proc shows the test runner's command line, not the holder's.
    while (!readFileSync(`/proc/${serve.pid}/cmdline`, 'utf8').split('\0').includes('serve')) await Bun.sleep(5)
    writeFileSync(join(h.dir, 'serve.lock'), `${serve.pid}\n`)
    expect(() => migrateToPostgres({dataDir: h.dir, to: 'postgres://margo@127.0.0.1:1/none'})).toThrow(`margo serve (pid ${serve.pid}) is running on ${h.dir} — stop it before migrating`)
  } finally {
    serve.kill()
  }
  expect(() => migrateToPostgres({dataDir: h.dir, to: 'sqlite:///x.db'})).toThrow('--to must be a postgres:// or postgresql:// URL')
  expect(() => migrateToPostgres({dataDir: join(h.dir, 'nowhere'), to: 'postgres://margo@127.0.0.1:1/none'})).toThrow('no SQLite fleet to migrate')
})
