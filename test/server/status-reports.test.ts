import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import {createHarness, capabilitiesBody, HELLO_WORLD, statusBody, TestDevice, type Harness} from './harness.ts'

let h: Harness
let d: TestDevice
beforeEach(async () => {
  h = await createHarness()
  d = await TestDevice.create(h)
  await d.onboard()
  await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody()})
  expect((await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})).status).toBe(201)
})
afterEach(() => h.close())

interface Problem {type: string, status: number, errors: {field: string, message: string}[]}

async function deploy(): Promise<string> {
  const res = await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId})
  expect(res.status).toBe(201)
  return ((await res.json()) as {deploymentId: string}).deploymentId
}

const report = (deploymentId: string, body: unknown, at?: Date) => {
  if (at) h.setClock(at)
  return d.send('POST', `/api/v1/clients/{clientId}/deployments/${deploymentId}/status`, {body, created: at ? Math.floor(at.getTime() / 1000) : undefined})
}

describe('a status report names the deployment\'s components (spec §4.2: one entry per component)', () => {
  test('unknown, missing and repeated components get 422 naming them', async () => {
    const id = await deploy()
    const unknown = await report(id, statusBody(id, 'installed', [{name: 'bogus', state: 'installed'}]))
    expect(unknown.status).toBe(422)
    const problem = (await unknown.json()) as Problem
    expect(problem.type).toBe('https://docs.margo.org/specification/problems/semantic-error')
    expect(problem.errors.map(e => e.field)).toEqual(['components[0].name', 'components'])
    expect(problem.errors[0]!.message).toContain("'bogus'")
    expect(problem.errors[1]!.message).toContain("'hello-world-compose'")

    const missing = await report(id, statusBody(id, 'installed', []))
    expect(missing.status).toBe(422)
    expect(((await missing.json()) as Problem).errors.map(e => e.field)).toEqual(['components'])

    const twice = await report(id, statusBody(id, 'installed', [{name: 'hello-world-compose', state: 'installed'}, {name: 'hello-world-compose', state: 'installed'}]))
    expect(twice.status).toBe(422)
    expect(((await twice.json()) as Problem).errors.map(e => e.field)).toEqual(['components[1].name'])

    expect((await report(id, statusBody(id, 'installed'))).status).toBe(200)
    const timeline = ((await (await h.operator('GET', `/deployments/${id}`)).json()) as {timeline: unknown[]}).timeline
    expect(timeline).toHaveLength(1)
  })

  test('a device that could not read the deployment reports failed with an error and no components', async () => {
    const id = await deploy()
    const body = {...statusBody(id, 'failed', []), status: {state: 'failed', error: {code: 'INVALID_DEPLOYMENT', message: 'unreadable'}}}
    expect((await report(id, body)).status).toBe(200)
    expect((await report(id, statusBody(id, 'removed', []))).status).toBe(200)
  })

  test('after an update, reports about the previous version are still accepted', async () => {
    const v2 = readFileSync(HELLO_WORLD, 'utf8').replace('version: "1.0"', 'version: "2.0"').replaceAll('hello-world-compose', 'hello-world-web')
    expect((await h.operator('POST', '/apps', v2, {'content-type': 'application/yaml'})).status).toBe(201)
    const res = await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId, version: '1.0'})
    const id = ((await res.json()) as {deploymentId: string}).deploymentId
    expect((await h.operator('PATCH', `/deployments/${id}`, {version: '2.0'})).status).toBe(200)
    // The old version's report crossed the new manifest on the wire.
    expect((await report(id, statusBody(id, 'installed'))).status).toBe(200)
    expect((await report(id, statusBody(id, 'installing', [{name: 'hello-world-web', state: 'installing'}]))).status).toBe(200)
    const wrong = await report(id, statusBody(id, 'installed', [{name: 'bogus', state: 'installed'}]))
    expect(wrong.status).toBe(422)
    expect(((await wrong.json()) as Problem).errors[1]!.message).toContain("'hello-world-web'")
  })
})

describe('a status report is bounded in size', () => {
  const withMessage = (id: string, bytes: number) =>
    ({...statusBody(id, 'failed'), status: {state: 'failed', error: {code: 'BIG', message: 'm'.repeat(bytes)}}})

  test('a report over the per-report limit gets 413 and is not stored; one under it is accepted', async () => {
    const id = await deploy()
    const big = await report(id, withMessage(id, 100 * 1024))
    expect(big.status).toBe(413)
    expect(big.headers.get('content-type')).toContain('application/problem+json')
    expect(((await big.json()) as {detail: string}).detail).toContain(`${64 * 1024} bytes`)
    expect(h.store.latestStatus(id)).toBeNull()
    expect((await report(id, withMessage(id, 60 * 1024))).status).toBe(200)
  })
})

describe('the status timeline of a deployment is bounded', () => {
  type Entry = {at: string, state: string, count?: number, lastAt?: string}
  const timeline = async (id: string) => ((await (await h.operator('GET', `/status/${id}`)).json()) as {deployments: {reportedAt: string, timeline: Entry[]}[]}).deployments[0]!
  const rows = (id: string) => (h.store.db.query('SELECT COUNT(*) AS n FROM status_reports WHERE deployment_id = ?').get(id) as {n: number}).n

  test('repeated identical reports are one row with a count and the last time', async () => {
    const id = await deploy()
    const t0 = Math.floor(Date.now() / 1000) * 1000
    const at = (s: number) => new Date(t0 + s * 1000)
    expect((await report(id, statusBody(id, 'installing'), at(0))).status).toBe(200)
    for (let i = 0; i < 30; i++) {
      expect((await report(id, statusBody(id, 'installed'), at(60 + i))).status).toBe(200)
    }
    expect(rows(id)).toBe(2)
    const view = await timeline(id)
    expect(view.timeline.map(e => [e.state, e.count ?? 1])).toEqual([['installing', 1], ['installed', 30]])
    expect(view.timeline[1]).toMatchObject({at: at(60).toISOString(), lastAt: at(89).toISOString()})
    expect(view.reportedAt).toBe(at(89).toISOString())
    // A change after the run is a new row again.
    expect((await report(id, statusBody(id, 'removing'), at(120))).status).toBe(200)
    expect(rows(id)).toBe(3)
  })

  test('only the newest rows up to the retention are kept, older ones deleted as reports arrive', async () => {
    h.close()
    h = await createHarness({statusRetention: 5})
    d = await TestDevice.create(h)
    await d.onboard()
    await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody()})
    await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})
    const id = await deploy()
    const states = ['installing', 'installed', 'failed', 'installing', 'installed', 'removing', 'removed', 'installing']
    for (const state of states) {
      const body = state === 'failed' ? {...statusBody(id, state), status: {state, error: {code: 'E', message: 'x'}}} : statusBody(id, state)
      expect((await report(id, body)).status).toBe(200)
    }
    expect(rows(id)).toBe(5)
    expect((await timeline(id)).timeline.map(e => e.state)).toEqual(states.slice(-5))
  })
})

describe('a device flooding status reports is throttled', () => {
  test('429 with Retry-After once its burst is spent, per device; nothing is stored; later reports pass again', async () => {
    h.close()
    h = await createHarness({statusRate: {burst: 3, perSecond: 0.5}})
    d = await TestDevice.create(h)
    await d.onboard()
    await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody()})
    await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})
    const id = await deploy()
    const t0 = Math.floor(Date.now() / 1000) * 1000
    const at = (s: number) => new Date(t0 + s * 1000)
    for (const state of ['pending', 'installing', 'installed']) expect((await report(id, statusBody(id, state), at(0))).status).toBe(200)
    const flooded = await report(id, statusBody(id, 'installing'), at(0))
    expect(flooded.status).toBe(429)
    expect(flooded.headers.get('retry-after')).toBe('2')
    expect(flooded.headers.get('content-type')).toContain('application/problem+json')
    expect(await flooded.json()).toMatchObject({status: 429, retryable: true, retryAfterSeconds: 2})
    expect(h.store.latestStatus(id)!.state).toBe('installed')

    // Another device has its own budget.
    const other = await TestDevice.create(h)
    await other.onboard()
    await other.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('device-2')})
    const res = await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: other.clientId})
    const otherId = ((await res.json()) as {deploymentId: string}).deploymentId
    h.setClock(at(0))
    expect((await other.send('POST', `/api/v1/clients/{clientId}/deployments/${otherId}/status`, {body: statusBody(otherId, 'pending'), created: Math.floor(t0 / 1000)})).status).toBe(200)

    expect((await report(id, statusBody(id, 'removing'), at(2))).status).toBe(200)
  })
})
