import {expect, test} from 'bun:test'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startEventJournal} from '../../../src/server/cluster/event-journal.ts'
import {runAsSingleton, tryLease} from '../../../src/server/cluster/lease.ts'
import {EventBus, type ServerEvent} from '../../../src/server/events.ts'
import {eventLogFor} from '../../../src/server/fleet-status/event-stream.ts'
import {Store} from '../../../src/server/store/store.ts'
import {createLogger} from '../../../src/util/log.ts'
import {TEST_DATABASE_URL} from '../../server/test-database.ts'

const log = createLogger({level: 'error', format: 'json'})
/** Two processes' stores on one database: a SQLite file, or a PostgreSQL schema (MARGO_TEST_DATABASE_URL). */
const twoStores = () => {
  if (TEST_DATABASE_URL) {
    const schema = `shared_${crypto.randomUUID().slice(0, 8)}`
    return [new Store(TEST_DATABASE_URL, {schema}), new Store(TEST_DATABASE_URL, {schema})] as const
  }
  const path = join(mkdtempSync(join(tmpdir(), 'margo-shared-')), 'margo.db')
  return [new Store(path, {shared: true}), new Store(path, {shared: true})] as const
}
const client = (clientId: string) => ({clientId, fingerprint: `sha256:${clientId}`, certificatePem: 'pem', subject: 'CN=x', keyType: 'p256', notAfter: '2999-01-01T00:00:00Z', enrollment: 'active' as const, onboardedAt: '2026-01-01T00:00:00Z'})

test('a revocation written by one process is seen by the next credential read of another', () => {
  const [a, b] = twoStores()
  a.insertClient(client('dev-1'))
  expect(b.getCredential('dev-1')?.enrollment).toBe('active')
  a.setEnrollment('dev-1', 'revoked')
  expect(b.getCredential('dev-1')?.enrollment).toBe('revoked')
})

test('a cache further behind than the kept invalidations forgets everything', () => {
  const [a, b] = twoStores()
  a.insertClient(client('dev-1'))
  a.insertClient(client('dev-2'))
  expect(b.getCredential('dev-1')?.enrollment).toBe('active')
  a.setEnrollment('dev-1', 'revoked')
  a.setEnrollment('dev-2', 'revoked')
  a.pruneCacheInvalidations(1)
  expect(b.getCredential('dev-1')?.enrollment).toBe('revoked')
})

test('one lease holder at a time; an expired lease is taken over', () => {
  const [a] = twoStores()
  expect(tryLease(a.db, 'controllers', 'p1', 1000, 5000)).toBe(true)
  expect(tryLease(a.db, 'controllers', 'p2', 2000, 5000)).toBe(false)
  expect(tryLease(a.db, 'controllers', 'p1', 3000, 5000)).toBe(true)
  expect(tryLease(a.db, 'controllers', 'p2', 7000, 5000)).toBe(false)
  expect(tryLease(a.db, 'controllers', 'p2', 8001, 5000)).toBe(true)
})

test('the singleton job runs in one process and moves when its holder stops', () => {
  const [a, b] = twoStores()
  const running: string[] = []
  const job = (who: string) => () => {
    running.push(who)
    return () => { running.splice(running.indexOf(who), 1) }
  }
  const sa = runAsSingleton({db: a.db, name: 'controllers', holder: 'a', log, start: job('a'), renewMs: 60_000})
  const sb = runAsSingleton({db: b.db, name: 'controllers', holder: 'b', log, start: job('b'), renewMs: 10})
  expect(running).toEqual(['a'])
  sa.stop()
  return Bun.sleep(50).then(() => {
    expect(running).toEqual(['b'])
    sb.stop()
  })
})

test('events emitted in one process reach the other process\'s listeners and streams, numbered alike', () => {
  const [a, b] = twoStores()
  const busA = new EventBus()
  const busB = new EventBus()
  const ja = startEventJournal(a.db, busA, 'a', log, 60_000)
  const jb = startEventJournal(b.db, busB, 'b', log, 60_000)
  const seenA: ServerEvent[] = []
  const seenB: ServerEvent[] = []
  busA.subscribe(e => seenA.push(e))
  busB.subscribe(e => seenB.push(e))
  busA.emit({type: 'device.updated', clientId: 'dev-1'})
  ja.pump()
  jb.pump()
  expect(seenA).toEqual([{type: 'device.updated', clientId: 'dev-1'}])
  expect(seenB).toEqual([{type: 'device.updated', clientId: 'dev-1'}])
  expect(eventLogFor(busA).lastId).toBe(1)
  expect(eventLogFor(busB).since(0)).toEqual([{id: 1, event: {type: 'device.updated', clientId: 'dev-1'}}])
  ja.stop()
  jb.stop()
})
