#!/usr/bin/env bun
/**
 * Backup and restore of a fleet of 10,000 devices, each with one deployment (a selector rollout),
 * its manifest and a status report. Yardsticks of the same run: a plain `VACUUM INTO` of the
 * same database and a file copy of it (checkpointed first, so the copy is whole). `margo backup`
 * adds the key files, gzip, AES-256-GCM and scrypt; `margo restore` adds decryption, PRAGMA
 * integrity_check and re-issuing every device's manifest above the restore's version floor.
 *
 * On PostgreSQL (a private cluster, or MARGO_TEST_DATABASE_URL; skipped when neither exists):
 * the SQLite backup restored into an empty schema, that schema backed up (one read-only
 * snapshot into a SQLite file, then the same sealing) and the PostgreSQL backup restored into
 * another empty schema. Yardstick: pg_dump of the same schema, same run.
 *
 *   bun bench/backup.ts [--devices 10000]
 */
import {parseArgs} from 'node:util'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {sealBackup} from '../src/server/backup/archive.ts'
import {createBackup} from '../src/server/backup/backup.ts'
import {restoreBackup} from '../src/server/backup/restore.ts'
import {raiseVersionFloor} from '../src/server/desired-state/publish.ts'
import {restoreFloor} from '../src/server/desired-state/version-floor.ts'
import {integrityProblems, snapshotDatabase} from '../src/server/store/snapshot.ts'
import {snapshotPostgres} from '../src/server/store/snapshot-postgres.ts'
import {Store} from '../src/server/store/store.ts'
import {postgresBinDir, startPostgresCluster} from '../test/integration/postgres-cluster.ts'
import {createHarness} from '../test/server/harness.ts'
import {seedFleet} from './seed-fleet.ts'

const {values} = parseArgs({options: {devices: {type: 'string', default: '10000'}}})
const N = Number(values.devices)
const work = mkdtempSync(join(tmpdir(), 'margo-bench-backup-'))

const h = await createHarness({}, {sqlite: true})
const now = () => new Date()
await seedFleet(h, N)
mkdirSync(join(h.dir, 'tls'), {mode: 0o700})
for (const name of ['tls/ca.pem', 'tls/ca.key', 'tls/server.pem', 'tls/server.key', 'operator-token', 'secret.key']) writeFileSync(join(h.dir, name), 'x'.repeat(300), {mode: 0o600})
h.store.db.exec('PRAGMA wal_checkpoint(TRUNCATE)')

const time = (f: () => void) => {
  const t0 = performance.now()
  f()
  return performance.now() - t0
}
const database = join(h.dir, 'margo.db')
const dbBytes = statSync(database).size

const copy = time(() => copyFileSync(database, join(work, 'copy.db')))
const vacuum = time(() => snapshotDatabase(database, join(work, 'vacuum.db')))
// The two parts of a restore beyond decryption: the integrity check, and re-issuing every manifest.
const integrity = time(() => integrityProblems(join(work, 'vacuum.db')))
const reissueStore = new Store(join(work, 'vacuum.db'))
const reissue = time(() => raiseVersionFloor(reissueStore, restoreFloor(Date.now()), now().toISOString()))
reissueStore.close()
const passphrase = {kind: 'passphrase' as const, passphrase: 'a passphrase for the benchmark'}
const scrypt = time(() => sealBackup(new Uint8Array(0), passphrase))
const keyFile = {kind: 'key-file' as const, key: new Uint8Array(32).fill(1)}

const backupPass = time(() => createBackup({dataDir: h.dir, file: join(work, 'pass.mbk'), key: passphrase, margoVersion: 'bench'}))
const backupKey = time(() => createBackup({dataDir: h.dir, file: join(work, 'key.mbk'), key: keyFile, margoVersion: 'bench'}))
const backupBytes = statSync(join(work, 'key.mbk')).size
let reannounced = 0
const restorePass = time(() => { reannounced = restoreBackup({file: join(work, 'pass.mbk'), dataDir: join(work, 'restored-pass'), key: passphrase}).reannounced })
const restoreKey = time(() => restoreBackup({file: join(work, 'key.mbk'), dataDir: join(work, 'restored-key'), key: keyFile}))
h.close()
const pg = await postgresFigures()
rmSync(work, {recursive: true, force: true})

async function postgresFigures() {
  const bin = postgresBinDir()
  const cluster = process.env.MARGO_TEST_DATABASE_URL || !bin ? null : await startPostgresCluster()
  const url = process.env.MARGO_TEST_DATABASE_URL || cluster?.url
  if (!url) return null
  const schemas = ['a', 'b', 'c'].map(x => `bench_${x}_${crypto.randomUUID().slice(0, 8)}`) as [string, string, string]
  try {
    const [a, b, c] = schemas
    const fromSqlite = time(() => restoreBackup({file: join(work, 'key.mbk'), dataDir: join(work, 'pg-a'), database: url, schema: a, key: keyFile}))
    const pgDump = bin && existsSync(join(bin, 'pg_dump'))
      ? time(() => {
        const r = Bun.spawnSync([join(bin, 'pg_dump'), '-d', url, '-n', a, '-f', join(work, 'dump.sql')])
        if (r.exitCode !== 0) throw new Error(`pg_dump: ${r.stderr.toString()}`)
      })
      : null
    const snapshot = time(() => snapshotPostgres(url, join(work, 'pg-snapshot.db'), {schema: a}))
    const backupPass = time(() => createBackup({dataDir: join(work, 'pg-a'), database: url, schema: a, file: join(work, 'pg-pass.mbk'), key: passphrase, margoVersion: 'bench'}))
    const backupKey = time(() => createBackup({dataDir: join(work, 'pg-a'), database: url, schema: a, file: join(work, 'pg-key.mbk'), key: keyFile, margoVersion: 'bench'}))
    const restorePass = time(() => restoreBackup({file: join(work, 'pg-pass.mbk'), dataDir: join(work, 'pg-b'), database: url, schema: b, key: passphrase}))
    const restoreKey = time(() => restoreBackup({file: join(work, 'pg-key.mbk'), dataDir: join(work, 'pg-c'), database: url, schema: c, key: keyFile}))
    return {fromSqlite, pgDump, snapshot, backupPass, backupKey, restorePass, restoreKey, backupBytes: statSync(join(work, 'pg-key.mbk')).size}
  } finally {
    const s = new Store(url)
    try { for (const schema of schemas) s.db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) } finally { s.close() }
    cluster?.stop()
  }
}

const ms = (x: number) => `${x.toFixed(0)} ms`
const x = (v: number) => `${(v / vacuum).toFixed(1)}x VACUUM INTO`
console.error(`${N} devices, database ${(dbBytes / 1e6).toFixed(1)} MB, backup file ${(backupBytes / 1e6).toFixed(1)} MB`)
console.error(`  yardsticks: file copy ${ms(copy)}, VACUUM INTO ${ms(vacuum)}, scrypt alone ${ms(scrypt)}`)
console.error(`  backup: passphrase ${ms(backupPass)} (${x(backupPass)}), key file ${ms(backupKey)} (${x(backupKey)})`)
console.error(`  of a restore: integrity_check ${ms(integrity)}, re-issuing ${reannounced} manifests ${ms(reissue)}`)
console.error(`  restore (${reannounced} manifests re-issued): passphrase ${ms(restorePass)} (${x(restorePass)}), key file ${ms(restoreKey)} (${x(restoreKey)})`)
if (pg) {
  const dump = pg.pgDump === null ? '' : `, ${(pg.backupKey / pg.pgDump).toFixed(1)}x pg_dump`
  console.error(`  PostgreSQL (backup file ${(pg.backupBytes / 1e6).toFixed(1)} MB): pg_dump ${pg.pgDump === null ? 'not installed' : ms(pg.pgDump)}, snapshot alone ${ms(pg.snapshot)} (${x(pg.snapshot)})`)
  console.error(`    backup: passphrase ${ms(pg.backupPass)} (${x(pg.backupPass)}), key file ${ms(pg.backupKey)} (${x(pg.backupKey)}${dump})`)
  console.error(`    restore: passphrase ${ms(pg.restorePass)} (${x(pg.restorePass)}), key file ${ms(pg.restoreKey)} (${x(pg.restoreKey)}); the SQLite backup into PostgreSQL ${ms(pg.fromSqlite)}`)
} else {
  console.error('  PostgreSQL: skipped (not installed, and no MARGO_TEST_DATABASE_URL)')
}
console.log(JSON.stringify({devices: N, dbBytes, backupBytes, copyMs: copy, vacuumMs: vacuum, scryptMs: scrypt, integrityMs: integrity, reissueMs: reissue, backupPassphraseMs: backupPass, backupKeyFileMs: backupKey, restorePassphraseMs: restorePass, restoreKeyFileMs: restoreKey, reannounced, postgres: pg}))
