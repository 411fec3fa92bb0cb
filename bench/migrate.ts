#!/usr/bin/env bun
/**
 * `margo db migrate` of a fleet of 10,000 devices, each with one deployment (a selector rollout),
 * its manifest and a status report, into a PostgreSQL database on a private cluster
 * (MARGO_TEST_DATABASE_URL when set). Yardstick of the same run: a `VACUUM INTO` of the same
 * SQLite database (reading and writing every row once, without a network or a second engine).
 *
 *   bun bench/migrate.ts [--devices 10000]
 */
import {parseArgs} from 'node:util'
import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {migrateToPostgres} from '../src/server/db-migrate.ts'
import {createRolloutService} from '../src/server/rollouts/rollout-service.ts'
import {snapshotDatabase} from '../src/server/store/snapshot.ts'
import {Store} from '../src/server/store/store.ts'
import {recordStatusReport} from '../src/server/store/status-repo.ts'
import {capabilitiesBody, createHarness, HELLO_WORLD} from '../test/server/harness.ts'
import {startPostgresCluster} from '../test/integration/postgres-cluster.ts'

const {values} = parseArgs({options: {devices: {type: 'string', default: '10000'}}})
const N = Number(values.devices)
const work = mkdtempSync(join(tmpdir(), 'margo-bench-migrate-'))
const cluster = process.env.MARGO_TEST_DATABASE_URL ? null : await startPostgresCluster()
const url = process.env.MARGO_TEST_DATABASE_URL || cluster!.url

const h = await createHarness({}, {sqlite: true})
const now = () => new Date()
const caps = JSON.stringify(capabilitiesBody('bench'))
h.store.transaction(() => {
  for (let i = 0; i < N; i++) {
    const id = `bench-${i}`
    h.store.insertClient({clientId: id, fingerprint: `sha256:${id}`, certificatePem: '-'.repeat(600), subject: id, keyType: 'p256', notAfter: '2030-01-01T00:00:00Z', enrollment: 'active', onboardedAt: now().toISOString()})
    h.store.setLabels(id, {fleet: 'b'})
    h.store.setCapabilities(id, caps, now().toISOString())
  }
})
if ((await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})).status !== 201) throw new Error('publish failed')
createRolloutService({store: h.store, events: {emit: () => {}}, now}).create({appId: 'com-northstartida-hello-world', selector: 'fleet=b', profile: 'compose'})
const at = now().toISOString()
h.store.transaction(() => {
  for (const d of h.store.listDeployments({desired: 'present'})) {
    recordStatusReport(h.store, {deploymentId: d.deploymentId, clientId: d.clientId, state: 'installed', errorJson: null, componentsJson: '[]', receivedAt: at}, 100)
  }
})
h.store.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
h.store.close()

const time = <T>(f: () => T): [number, T] => {
  const t0 = performance.now()
  const r = f()
  return [performance.now() - t0, r]
}
const database = join(h.dir, 'margo.db')
const dbBytes = statSync(database).size
const [vacuum] = time(() => snapshotDatabase(database, join(work, 'vacuum.db')))
const schema = `bench_${crypto.randomUUID().slice(0, 8)}`
const [migrate, summary] = time(() => migrateToPostgres({dataDir: h.dir, to: url, schema}))

const target = new Store(url, {schema})
target.db.exec(`DROP SCHEMA ${schema} CASCADE`)
target.close()
h.close()
cluster?.stop()
rmSync(work, {recursive: true, force: true})

const ms = (x: number) => `${x.toFixed(0)} ms`
console.error(`${N} devices, database ${(dbBytes / 1e6).toFixed(1)} MB, ${summary.rows} rows in ${summary.tables.length} tables`)
console.error(`  yardstick: VACUUM INTO ${ms(vacuum)}`)
console.error(`  margo db migrate: ${ms(migrate)} (${(migrate / vacuum).toFixed(1)}x VACUUM INTO), ${Math.round(summary.rows / (migrate / 1000))} rows/s`)
console.log(JSON.stringify({devices: N, dbBytes, rows: summary.rows, vacuumMs: vacuum, migrateMs: migrate, tables: Object.fromEntries(summary.tables.filter(t => t.rows > 0).map(t => [t.table, t.rows]))}))
