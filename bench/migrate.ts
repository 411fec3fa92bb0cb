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
import {mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {migrateToPostgres} from '../src/server/db-migrate.ts'
import {snapshotDatabase} from '../src/server/store/snapshot.ts'
import {Store} from '../src/server/store/store.ts'
import {createHarness} from '../test/server/harness.ts'
import {seedFleet} from './seed-fleet.ts'
import {startPostgresCluster} from '../test/integration/postgres-cluster.ts'

const {values} = parseArgs({options: {devices: {type: 'string', default: '10000'}}})
const N = Number(values.devices)
const work = mkdtempSync(join(tmpdir(), 'margo-bench-migrate-'))
const cluster = process.env.MARGO_TEST_DATABASE_URL ? null : await startPostgresCluster()
const url = process.env.MARGO_TEST_DATABASE_URL || cluster!.url

const h = await createHarness({}, {sqlite: true})
await seedFleet(h, N, {certificatePem: '-'.repeat(600)})
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
