import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {EventBus} from '../../../src/server/events.ts'
import {createServices} from '../../../src/server/services.ts'
import type {Enrollment} from '../../../src/server/store/store.ts'
import {testDatabase} from '../../server/test-database.ts'
import {silentLogger} from '../../../src/util/log.ts'

export const HELLO_WORLD_YAML = readFileSync(join(import.meta.dir, '../../fixtures/apps/hello-world/margo.yaml'))
export const HELLO_WORLD_ID = 'com-northstartida-hello-world'

/** The server's services on an in-memory store (or a PostgreSQL schema, see test-database.ts): called directly, with no HTTP in between. */
export function serviceFixture() {
  const database = testDatabase(null)
  const store = database.open()
  const events = new EventBus()
  const now = () => new Date('2025-06-01T12:00:00Z')
  const services = createServices({store, events, log: silentLogger, now})
  return {
    store, events, services,
    addDevice(clientId: string, enrollment: Enrollment = 'active') {
      store.insertClient({
        clientId, fingerprint: `sha256:${clientId}`, certificatePem: '', subject: `CN=${clientId}`, keyType: 'p256',
        notAfter: '2030-01-01T00:00:00Z', enrollment, onboardedAt: now().toISOString(),
      })
      return clientId
    },
    publishHelloWorld: () => services.catalog.publish({bytes: new Uint8Array(HELLO_WORLD_YAML)}),
    close: () => {
      store.close()
      database.drop()
    },
  }
}

/** The error `fn` throws; fails the test when it returns instead. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected an error')
}
