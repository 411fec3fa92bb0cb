import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {OperatorClient} from '../../src/client/operator-client.ts'
import {undoRun} from '../../src/conformance/wfm/cleanup.ts'
import {RUN_LABEL, RunLedger} from '../../src/conformance/wfm/ledger.ts'
import {arrangeDefaultDeployment, arrangeDenyList, OWN_SAMPLE_COMPOSE} from '../../src/conformance/wfm/preconditions.ts'
import {createHarness, ORIGIN, TestDevice, TOKEN, type Harness} from './harness.ts'

/** The operator client's fetch, answered by the in-process server. */
const inProcessFetch = (handle: (req: Request) => Promise<Response>) =>
  ((input: string | URL | Request, init?: RequestInit) => handle(new Request(input as string, init))) as typeof fetch

describe('a conformance run undoes exactly what it created, through the operator API', () => {
  let h: Harness
  let client: OperatorClient
  beforeEach(async () => {
    h = await createHarness()
    client = new OperatorClient({baseUrl: `${ORIGIN}/operator/v1`, token: TOKEN, origin: {server: 'test', token: 'test'}}, {fetch: inProcessFetch(req => h.app.handle(req))})
  })
  afterEach(() => h.close())

  const get = async <T>(path: string) => (await (await h.operator('GET', path)).json()) as T

  test('rollout, deny-list entry and the run\'s devices go; the fleet\'s device, deny-list entry and rollout stay', async () => {
    // The fleet as it was before the run.
    const fleetDevice = await TestDevice.create(h)
    await fleetDevice.onboard()
    expect((await h.operator('POST', '/denylist', {value: 'fleet-entry'})).status).toBe(201)
    const ledger = new RunLedger()
    ledger.seenBefore(await client.listDevices())

    // The run: its identities, its set-up, then its devices onboarding.
    const mine = [await TestDevice.create(h), await TestDevice.create(h)]
    for (const d of mine) ledger.identity(d.certPem)
    // The fleet's device certificate given to the run (--cert): known, but the device is not the run's.
    ledger.identity(fleetDevice.certPem)
    expect((await arrangeDenyList(client, ledger, ['fleet-entry', 'suite-entry'])).met).toBe(true)
    expect((await arrangeDefaultDeployment(client, ledger, OWN_SAMPLE_COMPOSE)).met).toBe(true)
    for (const d of mine) await d.onboard()
    // Someone else's rollout of the app made while the run went on: its own name, and devices
    // the run's rollout does not reach (a device runs one rollout of an app).
    const theirs = (await (await h.operator('POST', '/rollouts', {appId: 'margo-conformance-sample-app-a', selector: 'team=theirs'})).json()) as {rolloutId: string}

    const report = await undoRun(client, ledger)
    expect(report.ok).toBe(true)
    expect(report.items.filter(i => i.outcome === 'removed').map(i => i.kind)).toEqual(['rollout', 'deny-list'])
    expect(report.items.filter(i => i.outcome === 'revoked').map(i => i.id).sort()).toEqual(mine.map(d => d.clientId).sort())

    expect((await get<{rollouts: {rolloutId: string}[]}>('/rollouts')).rollouts.map(r => r.rolloutId)).toEqual([theirs.rolloutId])
    expect((await get<{entries: {value: string}[]}>('/denylist')).entries.map(e => e.value)).toEqual(['fleet-entry'])
    const devices = (await get<{devices: {clientId: string, enrollment: string, labels: Record<string, string>}[]}>('/devices')).devices
    const byId = new Map(devices.map(d => [d.clientId, d]))
    expect(byId.get(fleetDevice.clientId)).toMatchObject({enrollment: 'active', labels: {}})
    for (const d of mine) expect(byId.get(d.clientId)).toMatchObject({enrollment: 'revoked', labels: {[RUN_LABEL]: ledger.runId}})
  })

  test('a set-up that fails half-way is still undone for the part that was made', async () => {
    const ledger = new RunLedger()
    ledger.seenBefore([])
    // The second value is refused (400): the first one is on the deny-list already.
    const denied = await arrangeDenyList(client, ledger, ['first-entry', ''])
    expect(denied.met).toBe(false)
    expect((await get<{entries: {value: string}[]}>('/denylist')).entries.map(e => e.value)).toEqual(['first-entry'])

    const report = await undoRun(client, ledger)
    expect(report.items).toEqual([{kind: 'deny-list', id: 'first-entry', outcome: 'removed'}])
    expect((await get<{entries: unknown[]}>('/denylist')).entries).toEqual([])
  })

  test('what is already gone counts as undone; a failed undo is reported and the rest still runs', async () => {
    const ledger = new RunLedger()
    ledger.seenBefore([])
    expect((await arrangeDefaultDeployment(client, ledger, OWN_SAMPLE_COMPOSE)).met).toBe(true)
    await arrangeDenyList(client, ledger, ['entry'])
    await h.operator('DELETE', `/rollouts/${ledger.rollouts[0]}`)
    const broken = new OperatorClient(client.connection, {fetch: inProcessFetch(req =>
      req.method === 'DELETE' && req.url.includes('/denylist/') ? Promise.resolve(new Response('{"title":"boom"}', {status: 500, headers: {'content-type': 'application/problem+json'}})) : h.app.handle(req))})
    const report = await undoRun(broken, ledger)
    expect(report.ok).toBe(false)
    expect(report.items.map(i => [i.kind, i.outcome])).toEqual([['rollout', 'removed'], ['deny-list', 'failed'], ['app', 'left']])
  })
})
