import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import {MANIFEST_MEDIA_TYPE} from '../../src/margo/media-types.ts'
import {capabilitiesBody, HELLO_WORLD, TestDevice, type Transport} from '../server/harness.ts'
import {eventually, startServe, type ServeProcess} from './binary.ts'

/** The serve processes (primary and workers) with an established connection on the server port. */
function servingPids(port: number): Set<number> {
  const out = Bun.spawnSync(['ss', '-tnpH', 'state', 'established', `( sport = :${port} )`]).stdout.toString()
  return new Set([...out.matchAll(/pid=(\d+)/g)].map(m => Number(m[1])))
}

const childPids = (pid: number) =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)

/** One TLS connection per request: the kernel spreads connections over the processes sharing the port. */
const freshConnections = (server: ServeProcess): Transport => ({
  base: server.url,
  handle: r => fetch(r, {tls: {ca: server.ca}, keepalive: false}),
})

let server: ServeProcess
let token: string
beforeAll(async () => {
  server = await startServe(['--workers', '2', '--enrollment', 'auto'])
  token = readFileSync(`${server.dataDir}/operator-token`, 'utf8').trim()
})
afterAll(async () => { await server.stop() })

const operator = (path: string, init: RequestInit = {}) =>
  fetch(`${server.url}/operator/v1${path}`, {...init, keepalive: false, tls: {ca: server.ca}, headers: {authorization: `Bearer ${token}`, ...init.headers}} as RequestInit)

async function openWatcher(): Promise<{text(): string, close(): void}> {
  const abort = new AbortController()
  const res = await operator('/events?types=device.*', {signal: abort.signal})
  expect(res.status).toBe(200)
  let text = ''
  void (async () => {
    try { for await (const chunk of res.body!) text += new TextDecoder().decode(chunk) } catch { /* aborted */ }
  })()
  return {text: () => text, close: () => abort.abort()}
}

describe('margo serve --workers 2', () => {
  test('two processes serve the port', async () => {
    expect(childPids(server.proc.pid)).toHaveLength(1)
  })

  test('an event made by one process reaches watchers connected to the other', async () => {
    const watchers: Awaited<ReturnType<typeof openWatcher>>[] = []
    // Open watchers until both processes hold some (each is a new connection).
    for (let i = 0; i < 24 && (watchers.length < 4 || servingPids(server.port).size < 2); i++) watchers.push(await openWatcher())
    expect(servingPids(server.port).size).toBe(2)
    await eventually('every stream open', () => watchers.every(w => w.text().includes('stream.open')) || undefined)
    const device = await TestDevice.create(freshConnections(server))
    const clientId = await device.onboard()
    await eventually('every watcher to see the onboarding', () => watchers.every(w => w.text().includes(clientId)) || undefined, 5000)
    // Each stream numbers it the same: the id comes from the shared journal.
    const ids = new Set(watchers.map(w => /id: (\d+)\ndata: [^\n]*device\.onboarded/.exec(w.text())?.[1]))
    expect(ids.size).toBe(1)
    for (const w of watchers) w.close()
  }, 30000)

  test('a device that joins a live rollout has its deployment in its first manifest, whichever process onboarded it', async () => {
    expect((await operator('/apps', {method: 'POST', body: readFileSync(HELLO_WORLD, 'utf8'), headers: {'content-type': 'application/yaml'}})).status).toBe(201)
    expect((await operator('/rollouts', {method: 'POST', body: JSON.stringify({appId: 'com-northstartida-hello-world', name: 'everywhere', selector: '', profile: 'compose'}), headers: {'content-type': 'application/json'}})).status).toBe(201)
    for (let i = 0; i < 10; i++) {
      const device = await TestDevice.create(freshConnections(server))
      await device.onboard()
      expect((await device.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody(`dev-${i}`)})).status).toBe(201)
      const manifest = await device.send('GET', '/api/v1/clients/{clientId}/deployments', {headers: {accept: MANIFEST_MEDIA_TYPE}})
      expect(manifest.status).toBe(200)
      expect(((await manifest.json()) as {deployments: unknown[]}).deployments).toHaveLength(1)
    }
  })

  test('a device revoked through one process is refused by every process on its next request', async () => {
    const device = await TestDevice.create(freshConnections(server))
    await device.onboard()
    // Polls over new connections warm the credential cache of both processes.
    for (let i = 0; i < 12; i++) expect([200, 304]).toContain((await device.send('GET', '/api/v1/clients/{clientId}/deployments')).status)
    expect((await operator(`/devices/${device.clientId}/revoke`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({confirm: device.clientId})})).status).toBe(200)
    const after = []
    for (let i = 0; i < 12; i++) after.push((await device.send('GET', '/api/v1/clients/{clientId}/deployments')).status)
    expect(after).toEqual(Array(12).fill(403))
  }, 30000)

  test('a worker killed with SIGKILL: the other process keeps serving, and the worker is restarted', async () => {
    const [worker] = childPids(server.proc.pid)
    process.kill(worker!, 'SIGKILL')
    await Bun.sleep(100)
    const device = await TestDevice.create(freshConnections(server))
    await device.onboard()
    for (let i = 0; i < 8; i++) expect((await device.send('GET', '/api/v1/clients/{clientId}/deployments')).status).toBe(200)
    const restarted = await eventually('a new worker', () => {
      const now = childPids(server.proc.pid)
      return now.length === 1 && now[0] !== worker ? now[0] : undefined
    }, 10000)
    expect(restarted).toBeGreaterThan(0)
  }, 30000)
})
