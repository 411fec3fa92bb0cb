// Several serve processes on one PostgreSQL database: caches kept coherent by notifications,
// events announced by notification, controllers led by whoever holds an advisory lock inside an
// open transaction. Needs MARGO_TEST_DATABASE_URL (CI runs this file on a private cluster).
import {afterAll, expect, test} from 'bun:test'
import {startEventJournal} from '../../../src/server/cluster/event-journal.ts'
import {runAsSingleton} from '../../../src/server/cluster/lease.ts'
import {EventBus, type ServerEvent} from '../../../src/server/events.ts'
import type {PostgresDatabase} from '../../../src/server/store/postgres/database.ts'
import {HEARD_WITHIN_MS} from '../../../src/server/store/postgres/coherence.ts'
import {LEADER_SESSION_TIMEOUT_MS} from '../../../src/server/store/postgres/leadership.ts'
import {Store} from '../../../src/server/store/store.ts'
import {createLogger} from '../../../src/util/log.ts'
import {TEST_DATABASE_URL} from '../../server/test-database.ts'

const onPostgres = test.skipIf(!TEST_DATABASE_URL)
if (!TEST_DATABASE_URL) console.log('skipped: PostgreSQL signals need MARGO_TEST_DATABASE_URL (see test/integration/postgres-cluster.ts)')

const log = createLogger({level: 'error', format: 'json'})
const opened: Store[] = []
const schemas: string[] = []
afterAll(() => {
  for (const s of opened) s.close()
  if (schemas.length === 0) return
  const admin = new Store(TEST_DATABASE_URL!, {schema: schemas[0]})
  for (const schema of schemas) admin.db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  admin.close()
})

/** Two processes' stores on one schema. */
function twoNodes(): [Store, Store] {
  const schema = `signals_${crypto.randomUUID().slice(0, 8)}`
  schemas.push(schema)
  const pair: [Store, Store] = [new Store(TEST_DATABASE_URL!, {schema}), new Store(TEST_DATABASE_URL!, {schema})]
  opened.push(...pair)
  return pair
}
const roundTrips = (s: Store) => (s.db as PostgresDatabase).roundTrips
const manifest = (clientId: string, version: number) => ({clientId, manifestVersion: version, bytes: new TextEncoder().encode('{}'), etag: `"v${version}"`, bundleDigest: null, createdAt: '2026-01-01T00:00:00Z'})
const client = (clientId: string) => ({clientId, fingerprint: `sha256:${clientId}`, certificatePem: 'pem', subject: 'CN=x', keyType: 'p256', notAfter: '2999-01-01T00:00:00Z', enrollment: 'active' as const, onboardedAt: '2026-01-01T00:00:00Z'})

async function until(what: string, ok: () => boolean, ms = 3_000) {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}

/** A cached read that needed no round trip: the notifications are caught up. */
async function cachedWithoutRoundTrip(s: Store, clientId: string) {
  await until('a read served from memory', () => {
    const before = roundTrips(s)
    s.getCredential(clientId)
    s.currentManifestEtag(clientId)
    return roundTrips(s) === before
  })
}

onPostgres('a poll\'s cached reads cost no round trip, and a revocation elsewhere is refused once its command returned', async () => {
  const [a, b] = twoNodes()
  a.insertClient(client('dev-1'))
  a.insertManifest(manifest('dev-1', 1), [])
  expect(b.getCredential('dev-1')?.enrollment).toBe('active')
  expect(b.currentManifestEtag('dev-1')).toBe('"v1"')
  await cachedWithoutRoundTrip(b, 'dev-1')

  // A new manifest is seen elsewhere within the window, without the other process asking.
  a.insertManifest(manifest('dev-1', 2), [])
  await until('the new ETag by notification', () => b.currentManifestEtag('dev-1') === '"v2"', HEARD_WITHIN_MS * 2)
  await cachedWithoutRoundTrip(b, 'dev-1')

  const started = performance.now()
  a.setEnrollment('dev-1', 'revoked')
  await a.credentialsSettled(started)
  // One round trip, the row itself: the notification had already dropped the cached entry (the
  // database fallback would have read the invalidation records first).
  const before = roundTrips(b)
  expect(b.getCredential('dev-1')?.enrollment).toBe('revoked')
  expect(roundTrips(b)).toBe(before + 1)
})

onPostgres('changes made while a process\'s listening connection was down are caught up when it listens again', async () => {
  const [a, b] = twoNodes()
  a.insertClient(client('dev-1'))
  a.insertManifest(manifest('dev-1', 1), [])
  b.getCredential('dev-1')
  await cachedWithoutRoundTrip(b, 'dev-1')
  // The database drops b's listener; the revocation's notification is sent while nobody listens.
  const listener = (b.db as PostgresDatabase).listenerPid!
  a.db.query('SELECT pg_terminate_backend(?)').get(listener)
  const started = performance.now()
  a.setEnrollment('dev-1', 'revoked')
  await a.credentialsSettled(started)
  expect(b.getCredential('dev-1')?.enrollment).toBe('revoked')
  await until('b to listen again and be caught up', () => {
    const before = roundTrips(b)
    b.currentManifestEtag('dev-1')
    return roundTrips(b) === before
  })
  expect(b.getCredential('dev-1')?.enrollment).toBe('revoked')
})

onPostgres('events written by one process reach another by notification, without its periodic read', async () => {
  const [a, b] = twoNodes()
  const busA = new EventBus()
  const busB = new EventBus()
  const ja = startEventJournal(a.db, busA, 'a', log, 3_600_000)
  const jb = startEventJournal(b.db, busB, 'b', log, 3_600_000)
  const seenB: ServerEvent[] = []
  busB.subscribe(e => seenB.push(e))
  await Bun.sleep(200)
  busA.emit({type: 'device.updated', clientId: 'dev-1'})
  busA.emit({type: 'device.updated', clientId: 'dev-2'})
  await until('the events on the other process', () => seenB.length === 2, 2_000)
  expect(seenB.map(e => (e as {clientId: string}).clientId)).toEqual(['dev-1', 'dev-2'])
  ja.stop()
  jb.stop()
})

/** The backend holding a schema's controllers lock, and whether it holds back vacuum. */
function leaderBackend(s: Store, schema: string): {pid: number, backend_xmin: string | null, state: string} | null {
  return s.db.query(`SELECT a.pid, a.backend_xmin::text AS backend_xmin, a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 1835102823 AND l.objsubid = 2
      AND l.objid::bigint = (hashtext(?1 || '/controllers')::bigint + 4294967296) % 4294967296`).get(schema) as never
}

onPostgres('the controllers run where the advisory lock is held, and move within seconds when that session dies', async () => {
  const [a, b] = twoNodes()
  const schema = schemas[schemas.length - 1]!
  const running: string[] = []
  const job = (who: string) => () => {
    running.push(who)
    return () => { running.splice(running.indexOf(who), 1) }
  }
  const sa = runAsSingleton({db: a.db, name: 'controllers', holder: 'a', log, start: job('a'), renewMs: 100})
  const sb = runAsSingleton({db: b.db, name: 'controllers', holder: 'b', log, start: job('b'), renewMs: 100})
  try {
    expect(running).toEqual(['a'])
    await Bun.sleep(300)
    expect(running).toEqual(['a'])
    const holder = leaderBackend(a, schema)
    expect(holder).not.toBeNull()
    // An open transaction that took no snapshot and wrote nothing: vacuum is not held back.
    expect(holder!.state).toBe('idle in transaction')
    expect(holder!.backend_xmin).toBeNull()

    // The holder's session ends (its process died, or the database dropped it).
    const t0 = performance.now()
    a.db.query('SELECT pg_terminate_backend(?)').get(holder!.pid)
    await until('the other process to take over', () => running.length === 1 && running[0] === 'b')
    expect(performance.now() - t0).toBeLessThan(2_000)
    expect(leaderBackend(b, schema)!.pid).not.toBe(holder!.pid)
  } finally {
    sa.stop()
    sb.stop()
  }
})

onPostgres('a holder that goes silent loses the lock after the session timeout, and a frozen process is replaced', async () => {
  const schema = `signals_${crypto.randomUUID().slice(0, 8)}`
  schemas.push(schema)
  // The holder is a process of its own, so it can be frozen (SIGSTOP) the way a hung machine is.
  const holder = Bun.spawn([process.execPath, 'run', `${import.meta.dir}/leader-process.ts`, TEST_DATABASE_URL!, schema], {stdout: 'pipe', stderr: 'inherit'})
  const reader = holder.stdout.getReader()
  const {value} = await reader.read()
  expect(new TextDecoder().decode(value)).toContain('leading')
  const b = new Store(TEST_DATABASE_URL!, {schema})
  opened.push(b)
  const running: string[] = []
  const sb = runAsSingleton({db: b.db, name: 'controllers', holder: 'b', log, start: () => { running.push('b'); return () => {} }, renewMs: 200})
  try {
    await Bun.sleep(500)
    expect(running).toEqual([])
    const t0 = performance.now()
    holder.kill('SIGSTOP')
    await until('the lock to be released by the session timeout', () => running.length === 1, LEADER_SESSION_TIMEOUT_MS + 3_000)
    const took = performance.now() - t0
    expect(took).toBeGreaterThan(LEADER_SESSION_TIMEOUT_MS - 1_500)
    expect(took).toBeLessThan(LEADER_SESSION_TIMEOUT_MS + 2_000)
  } finally {
    sb.stop()
    holder.kill('SIGKILL')
  }
}, 20_000)

onPostgres('a holder whose session ended says so once before it leads again, even when the database is back at once', async () => {
  const schema = `signals_${crypto.randomUUID().slice(0, 8)}`
  schemas.push(schema)
  const a = new Store(TEST_DATABASE_URL!, {schema})
  opened.push(a)
  const signals = a.db.signals!
  try {
    expect(signals.lead('controllers')).toBe(true)
    const holder = leaderBackend(a, schema)!
    // The database ended the session (a restart, an administrator): the lock went with it, and
    // for a moment another node could have taken it. The next answer must say it was lost, so
    // the controllers stop and start again, rather than run on as if nothing had happened.
    a.db.query('SELECT pg_terminate_backend(?)').get(holder.pid)
    await Bun.sleep(2_500)
    expect(signals.lead('controllers')).toBe(false)
    await until('leading again', () => signals.lead('controllers'), 5_000)
    expect(leaderBackend(a, schema)!.pid).not.toBe(holder.pid)
  } finally {
    signals.unlead('controllers')
  }
}, 15_000)
