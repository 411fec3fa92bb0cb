import {afterEach, expect, test} from 'bun:test'
import {Database} from 'bun:sqlite'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createBackup} from '../../src/server/backup/backup.ts'
import {restoreBackup} from '../../src/server/backup/restore.ts'
import {deploy, expectRestoredAsUpdate, KEY_FILES, poll} from './backup-fixture.ts'
import {capabilitiesBody, createHarness, HELLO_WORLD, TestDevice, type Harness} from './harness.ts'
import {TEST_DATABASE_URL} from './test-database.ts'

// These back up a data directory's SQLite database; backup-postgres.test.ts covers PostgreSQL.
const sqliteOnly = test.skipIf(TEST_DATABASE_URL !== undefined)

const FAST = {N: 2 ** 10, r: 8, p: 1}
const KEY = {kind: 'passphrase' as const, passphrase: 'a passphrase for tests'}
const work = mkdtempSync(join(tmpdir(), 'margo-backup-test-'))
const open: Harness[] = []
afterEach(() => {
  for (const h of open.splice(0)) h.close()
})

/** A serving data dir with one device, the hello-world app deployed to it, and the key files a real one has. */
async function fleet() {
  const h = await createHarness()
  open.push(h)
  mkdirSync(join(h.dir, 'tls'), {mode: 0o700})
  for (const [name, text] of KEY_FILES) writeFileSync(join(h.dir, name), text, {mode: 0o600})
  const d = await TestDevice.create(h)
  await d.onboard()
  await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody()})
  expect((await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})).status).toBe(201)
  return {h, d}
}

sqliteOnly('a device that accepted newer manifests than the backup takes the restored server\'s next one as an update', async () => {
  const {h, d} = await fleet()
  const kept = await deploy(h, d.clientId)
  const file = join(work, 'fleet.mbk')
  const backup = createBackup({dataDir: h.dir, file, key: KEY, margoVersion: 'test', scrypt: FAST})
  expect(backup).toMatchObject({devices: 1, deployments: 1})
  expect(statSync(file).mode & 0o777).toBe(0o600)

  // After the backup the old server goes on: two more changes the device accepts.
  await deploy(h, d.clientId, {greeting: 'after the backup'})
  const accepted = await poll(d)
  expect(accepted.json.manifestVersion).toBe(3)

  const target = join(work, 'restored')
  const restored = restoreBackup({file, dataDir: target, key: KEY})
  expect(restored).toMatchObject({devices: 1, deployments: 1, reannounced: 1})
  expect(restored.files.sort()).toEqual(['margo.db', 'operator-token', 'secret.key', 'tls/ca.key', 'tls/ca.pem', 'tls/server.key', 'tls/server.pem'])
  for (const secret of ['margo.db', 'tls/ca.key', 'tls/server.key', 'operator-token', 'secret.key']) expect(statSync(join(target, secret)).mode & 0o777).toBe(0o600)
  expect(readFileSync(join(target, 'tls/ca.key'), 'utf8')).toBe('CA KEY')

  const r = await createHarness({}, {dir: target})
  open.push(r)
  await expectRestoredAsUpdate(r, d, accepted, restored.manifestVersionFloor, kept)
})

sqliteOnly('the snapshot is a committed state: a writer holding an open transaction neither blocks it nor leaks into it', async () => {
  const {h, d} = await fleet()
  const writer = new Database(join(h.dir, 'margo.db'))
  writer.exec('PRAGMA busy_timeout = 5000')
  writer.exec('BEGIN IMMEDIATE')
  writer.query("UPDATE clients SET labels_json = '{\"uncommitted\":\"yes\"}'").run()
  const file = join(work, 'during-write.mbk')
  try {
    createBackup({dataDir: h.dir, file, key: KEY, margoVersion: 'test', scrypt: FAST})
  } finally {
    writer.exec('ROLLBACK')
    writer.close()
  }
  const target = join(work, 'during-write')
  restoreBackup({file, dataDir: target, key: KEY})
  const db = new Database(join(target, 'margo.db'), {readonly: true})
  try {
    expect(db.query('SELECT labels_json FROM clients WHERE client_id = ?').get(d.clientId)).toEqual({labels_json: '{}'})
    expect(db.query('PRAGMA journal_mode').get()).toEqual({journal_mode: 'wal'})
  } finally {
    db.close()
  }
})

sqliteOnly('a wrong passphrase, an altered file and a non-empty target are refused, and leave the target as it was', async () => {
  const {h} = await fleet()
  const file = join(work, 'refusals.mbk')
  createBackup({dataDir: h.dir, file, key: KEY, margoVersion: 'test', scrypt: FAST})
  const target = join(work, 'refusals')
  expect(() => restoreBackup({file, dataDir: target, key: {kind: 'passphrase', passphrase: 'not the passphrase'}})).toThrow('wrong passphrase')
  const altered = readFileSync(file)
  altered[altered.length - 100]! ^= 0x40
  writeFileSync(join(work, 'altered.mbk'), altered)
  expect(() => restoreBackup({file: join(work, 'altered.mbk'), dataDir: target, key: KEY})).toThrow('altered or damaged')
  expect(existsSync(target)).toBe(false)
  expect(readdirSync(work).filter(n => n.includes('.restore-'))).toEqual([])

  mkdirSync(target)
  writeFileSync(join(target, 'margo.db'), 'a fleet already here')
  expect(() => restoreBackup({file, dataDir: target, key: KEY})).toThrow(/^refusing to restore into .*: it is not empty \(1 entry\)/)
  expect(readFileSync(join(target, 'margo.db'), 'utf8')).toBe('a fleet already here')
  rmSync(join(target, 'margo.db'))
  // An empty directory is fine.
  expect(restoreBackup({file, dataDir: target, key: KEY}).devices).toBe(1)
})

sqliteOnly('a backup taken with the clock ahead is refused by a machine whose clock is behind it', async () => {
  const {h} = await fleet()
  const file = join(work, 'future.mbk')
  createBackup({dataDir: h.dir, file, key: KEY, margoVersion: 'test', scrypt: FAST, now: () => new Date(Date.now() + 3_600_000)})
  expect(() => restoreBackup({file, dataDir: join(work, 'future'), key: KEY})).toThrow('clock')
})

test('a backup file that cannot be read is named with the reason, before anything is written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'margo-restore-missing-'))
  const target = join(dir, 'restored')
  const key = {kind: 'key-file' as const, key: new Uint8Array(32)}
  expect(() => restoreBackup({file: join(dir, 'nope.mbk'), dataDir: target, key})).toThrow(`cannot read the backup file ${join(dir, 'nope.mbk')}: it does not exist`)
  expect(() => restoreBackup({file: dir, dataDir: target, key})).toThrow(`cannot read the backup file ${dir}: it is a directory`)
  expect(existsSync(target)).toBe(false)
})
