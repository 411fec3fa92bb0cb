import {afterEach, expect, test} from 'bun:test'
import {createServerMetrics, otherSnapshots, ownFamilies, storeSnapshot} from '../../../src/server/metrics/server-metrics.ts'
import {Store} from '../../../src/server/store/store.ts'

const stores: Store[] = []
afterEach(() => { for (const s of stores.splice(0)) s.close() })

test('snapshots are per node: nodes sharing a database neither overwrite nor report each other', () => {
  const store = new Store(':memory:')
  stores.push(store)
  const now = Date.now()
  const a = createServerMetrics()
  const b = createServerMetrics()
  a.polls.inc({status: '304'})
  b.polls.inc({status: '200'})
  // Worker 1 of node A and worker 1 of node B, one database.
  storeSnapshot(store.db, 'host-a:/var/lib/margo', 1, ownFamilies(a, 1), now)
  storeSnapshot(store.db, 'host-b:/var/lib/margo', 1, ownFamilies(b, 1), now)
  const seenByA = JSON.stringify(otherSnapshots(store.db, 'host-a:/var/lib/margo', 0, now))
  const seenByB = JSON.stringify(otherSnapshots(store.db, 'host-b:/var/lib/margo', 0, now))
  expect(seenByA).toContain('"304"')
  expect(seenByA).not.toContain('"200"')
  expect(seenByB).toContain('"200"')
  expect(seenByB).not.toContain('"304"')
  // A process never reads its own snapshot back.
  expect(otherSnapshots(store.db, 'host-a:/var/lib/margo', 1, now)).toEqual([])
})
