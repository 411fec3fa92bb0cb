import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import {Elysia} from 'elysia'
import {createSseParser, type SseMessage} from '../../src/client/events.ts'
import {closeEventStreams, eventLogFor} from '../../src/server/fleet-status/event-stream.ts'
import {eventRoutes} from '../../src/server/operator-api/events.ts'
import {silentLogger} from '../../src/util/log.ts'
import {createHarness, capabilitiesBody, HELLO_WORLD, ORIGIN, statusBody, TestDevice, TOKEN, type Harness} from './harness.ts'

let h: Harness
beforeEach(async () => { h = await createHarness() })
afterEach(() => h.close())

const publish = () => h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})

async function device() {
  const d = await TestDevice.create(h)
  await d.onboard()
  await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('dev')})
  return d
}

interface Stream {
  messages: SseMessage[]
  raw: string
  /** Reads until `predicate` holds for what arrived so far. */
  until(predicate: (s: Stream) => boolean): Promise<void>
  close(): void
  abort: AbortController
}

/** Opens the event stream in process and parses it with the client's parser. */
async function open(path = '/events', headers: Record<string, string> = {}, app: {handle(r: Request): Promise<Response>} = h.app): Promise<Stream> {
  const abort = new AbortController()
  const res = await app.handle(new Request(`${ORIGIN}/operator/v1${path}`, {headers: {authorization: `Bearer ${TOKEN}`, accept: 'text/event-stream', ...headers}, signal: abort.signal}))
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toStartWith('text/event-stream')
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  const s: Stream = {
    messages: [],
    raw: '',
    abort,
    async until(predicate) {
      while (!predicate(s)) {
        const {value, done} = await reader.read()
        if (done) throw new Error(`stream ended before the expected events; got:\n${s.raw}`)
        const text = decoder.decode(value, {stream: true})
        s.raw += text
        parser.push(text)
      }
    },
    close() { abort.abort() },
  }
  const parser = createSseParser(m => s.messages.push(m))
  return s
}

const types = (s: Stream) => s.messages.map(m => m.event)
const data = (m: SseMessage) => JSON.parse(m.data) as Record<string, unknown>

describe('operator event stream', () => {
  test('refuses a missing token (401), a non-SSE Accept (406) and a malformed types filter (400)', async () => {
    const url = `${ORIGIN}/operator/v1/events`
    expect((await h.app.handle(new Request(url))).status).toBe(401)
    const json = await h.app.handle(new Request(url, {headers: {authorization: `Bearer ${TOKEN}`, accept: 'application/json'}}))
    expect(json.status).toBe(406)
    expect(((await json.json()) as {error: {code: string}}).error.code).toBe('not_acceptable')
    const bad = await h.operator('GET', '/events?types=deployment.status,DROP%20TABLE')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as {error: {message: string}}).error.message).toContain('DROP TABLE')
  })

  test('opens with retry and stream.open, then forwards a deploy and its status reports in order with increasing ids', async () => {
    await publish()
    const d = await device()
    const s = await open()
    await s.until(x => x.messages.length >= 1)
    expect(s.raw).toStartWith('retry: 2000\n')
    expect(s.messages[0]!.event).toBe('stream.open')

    const created = await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId})
    const {deploymentId} = (await created.json()) as {deploymentId: string}
    for (const state of ['installing', 'installed']) {
      expect((await d.send('POST', `/api/v1/clients/{clientId}/deployments/${deploymentId}/status`, {body: statusBody(deploymentId, state)})).status).toBe(200)
    }
    await s.until(x => x.messages.filter(m => m.event === 'deployment.status').length === 2)
    const deployments = s.messages.filter(m => m.event.startsWith('deployment.'))
    expect(deployments.map(m => [m.event, data(m).state])).toEqual([
      ['deployment.changed', undefined],
      ['deployment.status', 'installing'],
      ['deployment.status', 'installed'],
    ])
    expect(data(deployments[2]!)).toEqual({type: 'deployment.status', deploymentId, clientId: d.clientId, state: 'installed'})
    const ids = s.messages.slice(1).map(m => Number(m.id))
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true)
    s.close()
  })

  test('?types= filters by exact type and by family', async () => {
    await publish()
    const d = await device()
    const statusOnly = await open('/events?types=deployment.status')
    const family = await open('/events?types=device.*')
    const {deploymentId} = (await (await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId})).json()) as {deploymentId: string}
    h.setClock(new Date(Date.now() + 60_000)) // past the device.seen throttle
    await d.send('POST', `/api/v1/clients/{clientId}/deployments/${deploymentId}/status`, {body: statusBody(deploymentId, 'installed')})
    await statusOnly.until(x => x.messages.some(m => m.event === 'deployment.status'))
    await family.until(x => x.messages.some(m => m.event === 'device.seen'))
    expect(types(statusOnly)).toEqual(['stream.open', 'deployment.status'])
    expect(types(family).filter(t => !t.startsWith('device.'))).toEqual(['stream.open'])
    statusOnly.close()
    family.close()
  })

  test('a reconnect with Last-Event-ID replays what it missed; an unknown id asks for a resync', async () => {
    await publish()
    const first = await open()
    await first.until(x => x.messages.length >= 1)
    const d = await device()
    // The capabilities report is the last thing device() does.
    await first.until(x => x.messages.some(m => m.event === 'device.updated'))
    const lastSeenId = first.messages.at(-1)!.id!
    first.close()
    await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId})

    const again = await open('/events', {'last-event-id': lastSeenId})
    await again.until(x => x.messages.some(m => m.event === 'deployment.changed'))
    expect(data(again.messages[0]!)).toMatchObject({replayed: 1, resync: false})
    expect(again.messages[1]!.event).toBe('deployment.changed')
    again.close()

    const future = await open('/events', {'last-event-id': '999999'})
    await future.until(x => x.messages.length >= 1)
    expect(data(future.messages[0]!)).toMatchObject({replayed: 0, resync: true})
    future.close()
  })

  test('a heartbeat comment goes out on every tick; closing the stream unsubscribes it and stops the heartbeat', async () => {
    const ticks: (() => void)[] = []
    let stopped = 0
    const every = (_ms: number, fn: () => void) => { ticks.push(fn); return () => { stopped++ } }
    const ctx = {
      store: h.store, events: h.events, log: silentLogger, token: TOKEN, version: 'test', enrollment: 'auto',
      deviceApiUrl: ORIGIN, maxBodyBytes: 1024, startedAt: new Date(), now: () => new Date(),
    }
    const app = new Elysia().use(eventRoutes(ctx, {every}))
    const log = eventLogFor(h.events)
    const before = log.listenerCount
    const s = await open('/events', {}, app)
    await s.until(x => x.messages.length >= 1)
    expect(log.listenerCount).toBe(before + 1)
    expect(ticks).toHaveLength(1)
    ticks[0]!()
    await s.until(x => x.raw.includes(': heartbeat\n\n'))
    // A comment is not an event: the parser delivers nothing for it.
    expect(types(s)).toEqual(['stream.open'])

    s.close()
    expect(log.listenerCount).toBe(before)
    expect(stopped).toBe(1)
    h.events.emit({type: 'app.published', appId: 'x', version: '1'}) // must not throw into a closed stream
  })

  test('device.seen goes out at most once per device per 10 s of requests', async () => {
    const d = await device()
    const s = await open('/events?types=device.seen')
    const t0 = Date.now() + 60_000
    const poll = async (offsetMs: number) => {
      h.setClock(new Date(t0 + offsetMs))
      expect((await d.send('GET', '/api/v1/clients/{clientId}/deployments', {created: Math.floor((t0 + offsetMs) / 1000)})).status).toBeLessThan(400)
    }
    await poll(0)
    await poll(3_000)
    await poll(9_000)
    await poll(10_500)
    await s.until(x => x.messages.filter(m => m.event === 'device.seen').length >= 2)
    expect(types(s)).toEqual(['stream.open', 'device.seen', 'device.seen'])
    expect(data(s.messages[1]!)).toEqual({type: 'device.seen', clientId: d.clientId})
    // The in-memory last-seen time still moves on every request.
    expect(h.device.lastSeen.get(d.clientId)).toBe(new Date(t0 + 10_500).toISOString())
    s.close()
  })

  test('over a real socket, closeEventStreams ends the open streams so a graceful stop can finish', async () => {
    const ticks: (() => void)[] = []
    const ctx = {
      store: h.store, events: h.events, log: silentLogger, token: TOKEN, version: 'test', enrollment: 'auto',
      deviceApiUrl: ORIGIN, maxBodyBytes: 1024, startedAt: new Date(), now: () => new Date(),
    }
    const app = new Elysia().use(eventRoutes(ctx, {every: (_ms, fn) => { ticks.push(fn); return () => {} }})).listen({hostname: '127.0.0.1', port: 0})
    try {
      const res = await fetch(`http://127.0.0.1:${app.server!.port}/operator/v1/events`, {headers: {authorization: `Bearer ${TOKEN}`}})
      const reader = res.body!.getReader()
      expect(new TextDecoder().decode((await reader.read()).value)).toContain('event: stream.open')
      expect(eventLogFor(h.events).openStreams).toBe(1)
      closeEventStreams(h.events)
      // The stream ends, so the server has nothing left to wait for.
      for (;;) if ((await reader.read()).done) break
      await app.stop()
      expect(eventLogFor(h.events).openStreams).toBe(0)
    } finally {
      await app.stop(true).catch(() => {})
    }
  })
})
