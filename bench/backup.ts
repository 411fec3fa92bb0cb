#!/usr/bin/env bun
/**
 * Backup and restore of a fleet of 10,000 devices, each with one deployment (a selector rollout),
 * its manifest and a status report. Yardsticks of the same run: a plain `VACUUM INTO` of the
 * same database and a file copy of it (checkpointed first, so the copy is whole). `margo backup`
 * adds the key files, gzip, AES-256-GCM and scrypt; `margo restore` adds decryption, PRAGMA
 * integrity_check and re-issuing every device's manifest above the restore's version floor.
 *
 *   bun bench/backup.ts [--devices 10000]
 */
import {parseArgs} from 'node:util'
import {copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {sealBackup} from '../src/server/backup/archive.ts'
import {createBackup} from '../src/server/backup/backup.ts'
import {restoreBackup} from '../src/server/backup/restore.ts'
import {raiseVersionFloor} from '../src/server/desired-state/publish.ts'
import {restoreFloor} from '../src/server/desired-state/version-floor.ts'
import {integrityProblems, snapshotDatabase} from '../src/server/store/snapshot.ts'
import {Store} from '../src/server/store/store.ts'
import {createHarness} from '../test/server/harness.ts'
import {seedFleet} from './seed-fleet.ts'

const {values} = parseArgs({options: {devices: {type: 'string', default: '10000'}}})
const N = Number(values.devices)
const work = mkdtempSync(join(tmpdir(), 'margo-bench-backup-'))

const h = await createHarness()
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
rmSync(work, {recursive: true, force: true})

const ms = (x: number) => `${x.toFixed(0)} ms`
const x = (v: number) => `${(v / vacuum).toFixed(1)}x VACUUM INTO`
console.error(`${N} devices, database ${(dbBytes / 1e6).toFixed(1)} MB, backup file ${(backupBytes / 1e6).toFixed(1)} MB`)
console.error(`  yardsticks: file copy ${ms(copy)}, VACUUM INTO ${ms(vacuum)}, scrypt alone ${ms(scrypt)}`)
console.error(`  backup: passphrase ${ms(backupPass)} (${x(backupPass)}), key file ${ms(backupKey)} (${x(backupKey)})`)
console.error(`  of a restore: integrity_check ${ms(integrity)}, re-issuing ${reannounced} manifests ${ms(reissue)}`)
console.error(`  restore (${reannounced} manifests re-issued): passphrase ${ms(restorePass)} (${x(restorePass)}), key file ${ms(restoreKey)} (${x(restoreKey)})`)
console.log(JSON.stringify({devices: N, dbBytes, backupBytes, copyMs: copy, vacuumMs: vacuum, scryptMs: scrypt, integrityMs: integrity, reissueMs: reissue, backupPassphraseMs: backupPass, backupKeyFileMs: backupKey, restorePassphraseMs: restorePass, restoreKeyFileMs: restoreKey, reannounced}))
