import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import type {Connection} from '../../../src/client/connection.ts'
import {AuthError, NotFoundError, OperationError, UnreachableError, ValidationError} from '../../../src/util/errors.ts'
import {OperatorClient} from '../../../src/client/operator-client.ts'
import {APP_ID, DEPLOYMENT_ID, DEVICE_ID, type FakeOperator, TOKEN, startFakeOperator} from './fake-operator.ts'

let fake: FakeOperator
let client: OperatorClient

function connection(over: Partial<Connection> = {}): Connection {
  return {baseUrl: fake.operatorUrl, token: TOKEN, origin: {server: '--server', token: '--token'}, ...over}
}

beforeAll(() => {
  fake = startFakeOperator()
  client = new OperatorClient(connection(), {userAgent: 'margo/test'})
})
afterAll(() => fake.stop())

const last = () => fake.requests.at(-1)!

describe('OperatorClient requests', () => {
  test('sends the bearer token, accept header and user agent', async () => {
    await client.health()
    expect(last().headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(last().headers.accept).toBe('application/json')
    expect(last().headers['user-agent']).toBe('margo/test')
    expect(last().path).toBe('/operator/v1/health')
  })

  test('devices: list, get, approve, revoke, preregister', async () => {
    const devices = await client.listDevices()
    expect(devices.map(d => d.enrollment)).toEqual(['active', 'pending'])
    const device = await client.getDevice(DEVICE_ID)
    expect(device.deployments[0]?.deploymentId).toBe(DEPLOYMENT_ID)
    expect((await client.approveDevice(DEVICE_ID)).enrollment).toBe('active')
    expect(last().method).toBe('POST')
    expect(last().path).toBe(`/operator/v1/devices/${DEVICE_ID}/approve`)
    expect((await client.revokeDevice(DEVICE_ID)).enrollment).toBe('revoked')
    expect(last().path).toEndWith('/revoke')
    const pre = await client.preregisterDevice('-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n')
    expect(pre.fingerprint).toStartWith('sha256:')
    expect(JSON.parse(new TextDecoder().decode(last().body))).toEqual({certificate: '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n'})
  })

  test('path segments are percent-encoded', async () => {
    await expect(client.getDevice('a/b?c')).rejects.toBeInstanceOf(NotFoundError)
    expect(last().path).toBe('/operator/v1/devices/a%2Fb%3Fc')
  })

  test('apps: list, get with version query, publish yaml and gzip', async () => {
    const apps = await client.listApps()
    expect(apps[0]?.appId).toBe(APP_ID)
    await client.getApp(APP_ID, '1.0')
    expect(last().query).toEqual({version: '1.0'})
    await client.getApp(APP_ID)
    expect(last().query).toEqual({})

    const created = await client.publishApp('kind: ApplicationDescription\nversion: "2.0"\n', 'application/yaml')
    expect(created.created).toBe(true)
    expect(last().headers['content-type']).toBe('application/yaml')
    const same = await client.publishApp('kind: ApplicationDescription\nversion: "1.1"\n', 'application/yaml')
    expect(same.created).toBe(false)

    const gz = Bun.gzipSync(new TextEncoder().encode('tar'))
    await client.publishApp(gz, 'application/gzip')
    expect(last().headers['content-type']).toBe('application/gzip')
    expect(last().body).toEqual(gz)
  })

  test('deployments: list with filter, create, get, patch, delete', async () => {
    await client.listDeployments({clientId: DEVICE_ID})
    expect(last().query).toEqual({clientId: DEVICE_ID})
    await client.listDeployments()
    expect(last().query).toEqual({})

    const d = await client.createDeployment({appId: APP_ID, clientId: DEVICE_ID, profile: 'compose', values: {greeting: 'Hi'}})
    expect(d.status).toBeNull()
    expect(last().headers['content-type']).toBe('application/json')
    expect(JSON.parse(new TextDecoder().decode(last().body))).toEqual({appId: APP_ID, clientId: DEVICE_ID, profile: 'compose', values: {greeting: 'Hi'}})

    const full = await client.getDeployment(DEPLOYMENT_ID)
    expect(full.timeline[0]?.state).toBe('installing')
    const patched = await client.updateDeployment(DEPLOYMENT_ID, {values: {greeting: 'Yo'}})
    expect(patched.values).toEqual({greeting: 'Yo'})
    expect(last().method).toBe('PATCH')
    expect((await client.deleteDeployment(DEPLOYMENT_ID)).desired).toBe('absent')
    expect(last().method).toBe('DELETE')
  })

  test('status and openapi', async () => {
    expect((await client.status()).devices.pending).toBe(1)
    expect((await client.openapi()).openapi).toBe('3.1.0')
  })
})

describe('OperatorClient errors', () => {
  test('401 → AuthError naming where the token came from', async () => {
    const bad = new OperatorClient(connection({token: 'wrong', origin: {server: '--server', token: 'MARGO_TOKEN'}}))
    const err = await bad.listDevices().catch(e => e)
    expect(err).toBeInstanceOf(AuthError)
    expect(err.exitCode).toBe(4)
    expect(err.message).toContain('MARGO_TOKEN')
    expect(err.message).toContain('margo login')
  })

  test('404 per resource → NotFoundError with the next command', async () => {
    const device = await client.getDevice('nope').catch(e => e)
    expect(device).toBeInstanceOf(NotFoundError)
    expect(device.exitCode).toBe(3)
    expect(device.message).toBe('device nope not found — run: margo device list')

    const app = await client.getApp('nope').catch(e => e)
    expect(app.message).toBe('app nope not found — run: margo app list')
    const version = await client.getApp(APP_ID, '7.0').catch(e => e)
    expect(version.message).toBe(`app ${APP_ID} version 7.0 not found — run: margo app show ${APP_ID}`)

    const dep = await client.deleteDeployment('nope').catch(e => e)
    expect(dep.message).toBe('deployment nope not found — run: margo status')

    const viaCreate = await client.createDeployment({appId: APP_ID, clientId: 'ghost'}).catch(e => e)
    expect(viaCreate.message).toBe('device ghost not found — run: margo device list')
  })

  test('422 → ValidationError carrying every detail', async () => {
    const err = await client.createDeployment({appId: APP_ID, clientId: DEVICE_ID, values: {port: '8'}}).catch(e => e)
    expect(err).toBeInstanceOf(ValidationError)
    expect(err.exitCode).toBe(2)
    expect(err.code).toBe('invalid_parameters')
    expect(err.details).toEqual([{path: 'values.port', message: 'unknown parameter'}])
    expect(err.message).toContain(`margo app show ${APP_ID}`)

    const desc = await client.publishApp('kind: Other\n', 'application/yaml').catch(e => e)
    expect(desc).toBeInstanceOf(ValidationError)
    expect(desc.details[0].path).toBe('kind')
  })

  test('409 → OperationError (exit 1)', async () => {
    const err = await client.publishApp('kind: ApplicationDescription\nversion: "9.9"\n', 'application/yaml').catch(e => e)
    expect(err).toBeInstanceOf(OperationError)
    expect(err.exitCode).toBe(1)
    expect(err.code).toBe('conflict')
  })

  test('5xx and non-JSON answers → OperationError', async () => {
    fake.failNext(new Response('boom', {status: 502}))
    const err = await client.status().catch(e => e)
    expect(err).toBeInstanceOf(OperationError)
    expect(err.message).toContain('server error 502')
    expect(err.message).toContain('check the server log')

    fake.failNext(new Response('<html>', {status: 200}))
    const html = await client.status().catch(e => e)
    expect(html).toBeInstanceOf(OperationError)
    expect(html.message).toContain('not JSON')
  })

  test('connection refused → UnreachableError naming the URL', async () => {
    const probe = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: () => new Response('')})
    const port = probe.port
    probe.stop(true)
    const down = new OperatorClient(connection({baseUrl: `http://127.0.0.1:${port}/operator/v1`, origin: {server: '/tmp/x/server.json', token: 't'}}))
    const err = await down.health().catch(e => e)
    expect(err).toBeInstanceOf(UnreachableError)
    expect(err.exitCode).toBe(5)
    expect(err.message).toContain(`http://127.0.0.1:${port}/operator/v1`)
    expect(err.message).toContain('connection refused')
    expect(err.message).toContain('/tmp/x/server.json')
  })

  test('a server that never answers → UnreachableError after the timeout', async () => {
    const hang = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: () => new Promise<Response>(() => {})})
    try {
      const slow = new OperatorClient(connection({baseUrl: `http://127.0.0.1:${hang.port}/operator/v1`}), {timeoutMs: 200})
      const err = await slow.health().catch(e => e)
      expect(err).toBeInstanceOf(UnreachableError)
      expect(err.message).toContain('did not answer')
    } finally {
      hang.stop(true)
    }
  })

  test('plain HTTP server behind an https URL → UnreachableError about TLS', async () => {
    const err = await new OperatorClient(connection({baseUrl: fake.operatorUrl.replace('http:', 'https:')})).health().catch(e => e)
    expect(err).toBeInstanceOf(UnreachableError)
    expect(err.message).toContain('TLS')
    expect(err.message).toContain('--ca-file')
  })
})
