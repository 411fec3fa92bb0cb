import {describe, expect, test} from 'bun:test'
import {createGate, gatedFetch} from '../../../src/simulate/request-gate.ts'
import {runSimulation} from '../../../src/simulate/runner.ts'
import {silentLogger} from '../../../src/util/log.ts'

const tick = () => new Promise<void>(resolve => setTimeout(resolve, 1))

describe('the request gate', () => {
  test('runs at most its limit at once, the rest in order of arrival', async () => {
    const gate = createGate(2)
    const started: number[] = []
    const finish: (() => void)[] = []
    const tasks = [0, 1, 2, 3].map(i => gate.run(() => {
      started.push(i)
      return new Promise<number>(resolve => finish.push(() => resolve(i)))
    }))
    await tick()
    expect([started, gate.inFlight]).toEqual([[0, 1], 2])
    finish[1]!()
    await tick()
    expect(started).toEqual([0, 1, 2])
    for (const f of [finish[0]!, finish[2]!]) f()
    await tick()
    finish[3]!()
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3])
    expect(gate.inFlight).toBe(0)
  })

  test('a task that fails gives its slot back', async () => {
    const gate = createGate(1)
    await expect(gate.run(() => Promise.reject(new Error('reset')))).rejects.toThrow('reset')
    expect(await gate.run(async () => 'next')).toBe('next')
    expect(gate.inFlight).toBe(0)
    expect(() => createGate(0)).toThrow(RangeError)
  })

  test('a request keeps its slot until its body is read', async () => {
    const gate = createGate(1)
    let release = () => {}
    const slowBody = new ReadableStream<Uint8Array>({start(c) {
      c.enqueue(new TextEncoder().encode('{"a":'))
      release = () => { c.enqueue(new TextEncoder().encode('1}')); c.close() }
    }})
    const f = gatedFetch(gate, async () => new Response(slowBody, {status: 200, headers: {etag: '"v2"'}}))
    const first = f('https://wfm.example/a')
    await tick()
    expect(gate.inFlight).toBe(1)
    release()
    const res = await first
    expect([res.status, res.headers.get('etag'), await res.text(), gate.inFlight]).toEqual([200, '"v2"', '{"a":1}', 0])
    const notModified = await gatedFetch(gate, async () => new Response(null, {status: 304}))('https://wfm.example/b')
    expect([notModified.status, notModified.body]).toEqual([304, null])
  })
})

describe('margo simulate', () => {
  test('keeps its requests in flight within the limit however many devices cycle at once', async () => {
    let inFlight = 0
    let most = 0
    const fetch = async () => {
      most = Math.max(most, ++inFlight)
      await Bun.sleep(100)
      inFlight--
      throw Object.assign(new Error('connection refused'), {code: 'ECONNREFUSED'})
    }
    const report = await runSimulation({
      server: 'https://127.0.0.1:9', caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      devices: 40, concurrency: 40, requestsInFlight: 5, fetch,
      pollIntervalMs: 10, applyTime: {minMs: 0, maxMs: 0}, failRate: 0, offlineRate: 0, outage: {minMs: 1000, maxMs: 1000},
      keyType: 'p256', durationMs: 1500, log: silentLogger, signal: new AbortController().signal,
    })
    expect(report.errors).toBeGreaterThan(5)
    expect(most).toBe(5)
  }, 20_000)
})
