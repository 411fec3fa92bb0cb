import {afterAll, beforeAll, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {type RunningServer, startServer} from '../../src/server/serve.ts'
import {parseExposition} from '../exposition.ts'
import {TestDevice} from './harness.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'margo-metrics-'))
let server: RunningServer
let ca: string
let token: string

beforeAll(async () => {
  server = await startServer({
    dataDir, listen: '127.0.0.1:0', basePath: '', sans: [], enrollment: 'auto', maxBodyBytes: 1 << 20, signatureMaxAgeSeconds: 300, signatureSkewSeconds: 60,
    tlsMinVersion: '1.3', logLevel: 'error', logFormat: 'json', version: '9.9.9-test', metricsOpen: true, metricsListen: '127.0.0.1:0',
  })
  ca = readFileSync(join(dataDir, 'tls/ca.pem'), 'utf8')
  token = readFileSync(join(dataDir, 'operator-token'), 'utf8').trim()
})
afterAll(async () => { await server.stop() })

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, {headers, tls: {ca}})

test('GET /operator/v1/metrics needs a token with metrics.read; the exposition parses', async () => {
  expect((await get(`${server.operatorUrl}/metrics`)).status).toBe(401)
  const device = await TestDevice.create({base: server.deviceApiUrl, handle: r => fetch(r, {tls: {ca}})})
  await device.onboard()
  const poll = await device.send('GET', '/api/v1/clients/{clientId}/deployments', {headers: {'x-request-id': 'poll-1'}})
  expect(poll.headers.get('x-request-id')).toBe('poll-1')
  expect((await device.send('GET', '/api/v1/clients/{clientId}/deployments', {unsigned: true})).status).toBe(401)

  const res = await get(`${server.operatorUrl}/metrics`, {authorization: `Bearer ${token}`})
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4')
  const text = await res.text()
  const {types, samples} = parseExposition(text)
  expect(types.get('margo_http_requests_total')).toBe('counter')
  expect(types.get('margo_http_request_duration_seconds')).toBe('histogram')
  const polls = samples.filter(s => s.name === 'margo_device_polls_total')
  expect(polls.find(s => s.labels.status === '200')?.value).toBe(1)
  expect(polls.find(s => s.labels.status === '401')?.value).toBe(1)
  expect(samples.find(s => s.name === 'margo_signature_failures_total' && s.labels.reason === 'missing')?.value).toBe(1)
  expect(samples.find(s => s.name === 'margo_http_requests_total' && s.labels.route === '/api/v1/onboarding')?.labels).toMatchObject({method: 'POST', status: '201', worker: '0'})
  expect(samples.find(s => s.name === 'margo_devices')?.labels).toEqual({enrollment: 'active', liveness: 'online'})
  expect(samples.find(s => s.name === 'margo_build_info')?.labels.version).toBe('9.9.9-test')
  expect(samples.some(s => s.name === 'process_resident_memory_bytes' && s.value > 0)).toBe(true)
  expect(samples.some(s => s.name === 'margo_sqlite_write_duration_seconds_count')).toBe(true)
  // Bounded cardinality: no label carries the device's id.
  expect(text).not.toContain(device.clientId)
})

test('--metrics-open serves GET /metrics without a token; --metrics-listen serves it over plain HTTP on loopback', async () => {
  expect((await get(`${new URL(server.operatorUrl).origin}/metrics`)).status).toBe(200)
  // Port 0 binds a free port; the server says which.
  expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*\/metrics$/)
  const plain = await fetch(server.metricsUrl!)
  expect(plain.status).toBe(200)
  expect(parseExposition(await plain.text()).types.get('margo_devices')).toBe('gauge')
})

test('--metrics-listen refuses an address off loopback', async () => {
  const err = await startServer({
    dataDir: mkdtempSync(join(tmpdir(), 'margo-metrics-')), listen: '127.0.0.1:0', basePath: '', sans: [], enrollment: 'auto', maxBodyBytes: 1 << 20, signatureMaxAgeSeconds: 300,
    signatureSkewSeconds: 60, tlsMinVersion: '1.3', logLevel: 'error', logFormat: 'json', version: 't', metricsListen: '0.0.0.0:9464',
  }).catch(e => e as Error)
  expect(String(err)).toContain('loopback only')
})
