import {expect, test} from 'bun:test'
import {MessageChannel} from 'node:worker_threads'
import {startNotices} from '../../../src/server/store/postgres/notices.ts'
import {freePort} from '../../integration/postgres-cluster.ts'

test('while the database refuses connections the listener tries again once a second, not twice as often each time', async () => {
  // A failed connect both closes the connection and fails the LISTEN: two reasons, one retry.
  const port = await freePort()
  const cache = new MessageChannel()
  const events = new MessageChannel()
  const notices = startNotices(`postgres://margo@127.0.0.1:${port}/margo`, {connect_timeout: 1, onnotice: () => {}}, {
    fromInvalidation: 0, cachePort: cache.port2, eventPort: events.port2, demand: new Int32Array(new SharedArrayBuffer(4)),
  })
  await Bun.sleep(3_500)
  const attempts = notices.attempts
  await notices.stop()
  cache.port1.close()
  events.port1.close()
  // About four at one a second; a busy machine may delay one. Doubling made it seven.
  expect(attempts).toBeGreaterThanOrEqual(2)
  expect(attempts).toBeLessThanOrEqual(5)
}, 15_000)
