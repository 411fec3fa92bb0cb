import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import {parse} from 'yaml'
import {existingForApp, existingOf} from '../../src/server/rollouts/apply.ts'
import {startRolloutController} from '../../src/server/rollouts/controller.ts'
import {silentLogger} from '../../src/util/log.ts'
import {createHarness, capabilitiesBody, HELLO_WORLD, statusBody, TestDevice, type Harness} from './harness.ts'

const APP = 'com-northstartida-hello-world'
let h: Harness
let stop: () => void
beforeEach(async () => {
  h = await createHarness()
  stop = startRolloutController({store: h.store, events: h.events, log: silentLogger, now: () => new Date()})
  expect((await publish()).status).toBe(201)
})
afterEach(() => { stop(); h.close() })

const helloYaml = () => readFileSync(HELLO_WORLD, 'utf8')
const publish = (yaml = helloYaml()) => h.operator('POST', '/apps', yaml, {'content-type': 'application/yaml'})

interface Target {clientId: string, deploymentId: string | null, action: string, digest: string, appVersion: string, profile: {type: string}, yaml?: string, diff?: string}
interface RolloutResult {rolloutId: string | null, targets: Target[], skipped: {clientId: string, reason: string}[], removed: {clientId: string, deploymentId: string}[]}
interface ErrorBody {error: {code: string, message: string, details?: {path: string, message: string}[]}}

async function json<T>(res: Response | Promise<Response>, status?: number): Promise<T> {
  const r = await res
  const body = await r.json()
  if (status !== undefined && r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(body)}`)
  return body as T
}

type Resources = Partial<ReturnType<typeof capabilitiesBody>['properties']['resources']>
async function device(options: {roles?: string[], labels?: Record<string, string>, resources?: Resources, report?: boolean} = {}) {
  const d = await TestDevice.create(h)
  await d.onboard()
  if (options.labels) await json(h.operator('PUT', `/devices/${d.clientId}/labels`, {labels: options.labels}), 200)
  if (options.report !== false) {
    const body = capabilitiesBody('dev', options.roles ?? ['Standalone Device'])
    Object.assign(body.properties.resources, options.resources ?? {})
    expect((await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body})).status).toBe(201)
  }
  return d
}

/** The deployments in the device's current manifest. */
async function manifest(d: TestDevice) {
  const res = await d.send('GET', '/api/v1/clients/{clientId}/deployments')
  expect(res.status).toBe(200)
  return (JSON.parse(await res.text()) as {manifestVersion: number, deployments: {deploymentId: string, digest: string}[]})
}
const manifestIds = async (d: TestDevice) => (await manifest(d)).deployments.map(x => x.deploymentId)

const rollout = (body: Record<string, unknown>) => h.operator('POST', '/rollouts', {appId: APP, ...body})
const label = (d: TestDevice, labels: Record<string, string | null>) => json(h.operator('PATCH', `/devices/${d.clientId}/labels`, {labels}), 200)

describe('device labels', () => {
  test('PUT replaces, PATCH merges and null removes; the device shows them sorted', async () => {
    const d = await device()
    const put = await json<{labels: Record<string, string>}>(h.operator('PUT', `/devices/${d.clientId}/labels`, {labels: {site: 'plant-7', line: '2'}}), 200)
    expect(put.labels).toEqual({line: '2', site: 'plant-7'})
    const patched = await label(d, {line: null, 'example.com/zone': 'north'}) as {labels: Record<string, string>}
    expect(patched.labels).toEqual({'example.com/zone': 'north', site: 'plant-7'})
    const replaced = await json<{labels: Record<string, string>}>(h.operator('PUT', `/devices/${d.clientId}/labels`, {labels: {tier: 'edge'}}), 200)
    expect(replaced.labels).toEqual({tier: 'edge'})
  })

  test('invalid keys and values are refused with every problem; unknown devices are 404', async () => {
    const d = await device()
    const res = await h.operator('PUT', `/devices/${d.clientId}/labels`, {labels: {'bad key': 'x', site: 'a'.repeat(64), ok: 'fine', 'Upper.Case/x': 'y'}})
    expect(res.status).toBe(422)
    const {error} = await json<ErrorBody>(res)
    expect(error.code).toBe('invalid_labels')
    expect(error.details!.map(p => p.path).sort()).toEqual(['labels.Upper.Case/x', 'labels.bad key', 'labels.site'])
    expect((await h.operator('PUT', `/devices/${d.clientId}/labels`, {labels: {site: null}})).status).toBe(422)
    expect((await h.operator('PATCH', '/devices/nope/labels', {labels: {a: 'b'}})).status).toBe(404)
  })
})

describe('rollouts to a live selector', () => {
  test('devices that join and leave the selector gain and lose the deployment', async () => {
    const a = await device({labels: {site: 'a'}})
    const b = await device({labels: {site: 'b'}})
    const created = await json<RolloutResult>(rollout({selector: 'site=a'}), 201)
    expect(created.targets.map(t => [t.clientId, t.action])).toEqual([[a.clientId, 'create']])
    expect(await manifestIds(b)).toEqual([])
    const [onA] = await manifestIds(a)
    expect(onA).toBe(created.targets[0]!.deploymentId!)

    // b joins by a label change; a leaves.
    await label(b, {site: 'a'})
    const onB = await manifestIds(b)
    expect(onB).toHaveLength(1)
    await label(a, {site: 'c'})
    expect(await manifestIds(a)).toEqual([])
    expect(h.store.getDeployment(onA!)!.desired).toBe('absent')

    // The removed deployment still takes the device's removing/removed reports.
    expect((await a.send('POST', `/api/v1/clients/{clientId}/deployments/${onA}/status`, {body: statusBody(onA!, 'removed')})).status).toBe(200)

    // A new device onboarding with matching labels gets it once it reports capabilities.
    const c = await device({report: false})
    await label(c, {site: 'a'})
    expect(await manifestIds(c)).toEqual([])
    await c.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('c')})
    expect(await manifestIds(c)).toHaveLength(1)

    const detail = await json<{targets: {clientId: string}[]}>(h.operator('GET', `/rollouts/${created.rolloutId}`), 200)
    expect(detail.targets.map(t => t.clientId).sort()).toEqual([b.clientId, c.clientId].sort())
  })

  test('re-evaluation is idempotent: repeating an event publishes no new manifest', async () => {
    const a = await device({labels: {site: 'a'}})
    await json(rollout({selector: 'site=a'}), 201)
    const before = (await manifest(a)).manifestVersion
    await label(a, {site: 'a'})
    h.events.emit({type: 'device.updated', clientId: a.clientId})
    expect((await manifest(a)).manifestVersion).toBe(before)
  })

  test('set-based and existence requirements select as Kubernetes does', async () => {
    const l1 = await device({labels: {site: 'p7', line: '1'}})
    const l2 = await device({labels: {site: 'p7', line: '2'}})
    const l3 = await device({labels: {site: 'p7', line: '3', canary: 'yes'}})
    const other = await device({labels: {site: 'p9', line: '1'}})
    const r = await json<RolloutResult>(rollout({selector: 'site=p7, line in (1,3), !canary'}), 201)
    expect(r.targets.map(t => t.clientId)).toEqual([l1.clientId])
    void l2; void l3; void other
  })

  test('an invalid selector is refused with the position of the problem and nothing is created', async () => {
    await device({labels: {site: 'a'}})
    const res = await rollout({selector: 'site=a,line in (1,2'})
    expect(res.status).toBe(422)
    const {error} = await json<ErrorBody>(res)
    expect(error.code).toBe('invalid_selector')
    expect(error.message).toContain('column 20')
    expect(((await json<{rollouts: unknown[]}>(h.operator('GET', '/rollouts'))).rollouts)).toEqual([])
  })
})

describe('a default rollout (empty selector)', () => {
  test('reaches a device onboarded afterwards at onboarding', async () => {
    // A profile named by the rollout needs no capabilities, so the device gets it at once.
    const r = await json<RolloutResult>(rollout({selector: '', profile: 'compose'}), 201)
    expect(r.targets).toEqual([])
    const d = await device({report: false})
    const ids = await manifestIds(d)
    expect(ids).toHaveLength(1)
    expect(h.store.getDeployment(ids[0]!)!.profileType).toBe('compose')
  })
})

describe('profiles and required resources', () => {
  const heavy = () => helloYaml()
    .replace('version: "1.0"', 'version: "2.0"')
    .replace('    id: com-northstartida-hello-world-compose-a\n', '    id: com-northstartida-hello-world-compose-a\n    requiredResources:\n      cpu:\n        cores: 2\n      memory: 16Gi\n      peripherals:\n        - type: gpu\n')

  test('each device gets the profile it runs; devices that do not fit are listed with the reason', async () => {
    expect((await publish(heavy())).status).toBe(201)
    const cluster = await device({roles: ['Standalone Cluster'], labels: {fleet: 'x'}})
    const big = await device({labels: {fleet: 'x'}, resources: {memory: '32Gi', peripherals: [{type: 'gpu'}] as never}})
    const small = await device({labels: {fleet: 'x'}})
    const silent = await device({labels: {fleet: 'x'}, report: false})
    const r = await json<RolloutResult>(rollout({selector: 'fleet=x'}), 201)
    expect(Object.fromEntries(r.targets.map(t => [t.clientId, t.profile.type]))).toEqual({[cluster.clientId]: 'helm.v3', [big.clientId]: 'compose'})
    const reasons = Object.fromEntries(r.skipped.map(s => [s.clientId, s.reason]))
    expect(Object.keys(reasons).sort()).toEqual([small.clientId, silent.clientId].sort())
    expect(reasons[small.clientId]).toContain('needs 16Gi memory, device has 8Gi')
    expect(reasons[small.clientId]).toContain('needs a gpu peripheral')
    expect(reasons[silent.clientId]).toContain('has not reported its capabilities')
    expect(await manifestIds(small)).toEqual([])
    // The rollout shows the same reasons later.
    const detail = await json<{skipped: {clientId: string}[]}>(h.operator('GET', `/rollouts/${r.rolloutId}`), 200)
    expect(detail.skipped.map(s => s.clientId).sort()).toEqual([small.clientId, silent.clientId].sort())
  })

  test('--profile forces the profile; an unknown profile is refused', async () => {
    const d = await device()
    const r = await json<RolloutResult>(rollout({devices: [d.clientId], profile: 'helm.v3'}), 201)
    expect(r.targets[0]!.profile.type).toBe('helm.v3')
    const bad = await rollout({devices: [d.clientId], profile: 'snap'})
    expect(bad.status).toBe(422)
    expect((await json<ErrorBody>(bad)).error.code).toBe('profile_unavailable')
  })

  test('an unknown device or app is 404 and creates nothing', async () => {
    const d = await device()
    expect((await rollout({devices: [d.clientId, 'ghost']})).status).toBe(404)
    expect((await h.operator('POST', '/rollouts', {appId: 'nope', devices: [d.clientId]})).status).toBe(404)
    expect(await manifestIds(d)).toEqual([])
  })
})

describe('parameter values', () => {
  test('every invalid value is reported and nothing is created', async () => {
    const a = await device({labels: {site: 'a'}})
    const res = await rollout({selector: 'site=a', values: {replicas: '9', greeting: 'x'.repeat(50), colour: 'red'}})
    expect(res.status).toBe(422)
    const {error} = await json<ErrorBody>(res)
    expect(error.code).toBe('invalid_parameters')
    expect(error.details!.map(d => d.path).sort()).toEqual(['parameters.colour', 'parameters.greeting', 'parameters.replicas'])
    expect(await manifestIds(a)).toEqual([])
    expect((await json<{rollouts: unknown[]}>(h.operator('GET', '/rollouts'))).rollouts).toEqual([])
  })

  test('an immutable setting cannot change on update; unset it keeps its installed value', async () => {
    const a = await device({labels: {site: 'a'}})
    const first = await json<RolloutResult>(rollout({selector: 'site=a', values: {siteId: 'SID-7'}}), 201)
    const id = first.targets[0]!.deploymentId!
    const refused = await rollout({devices: [a.clientId], values: {siteId: 'SID-8'}})
    expect(refused.status).toBe(422)
    const {error} = await json<ErrorBody>(refused)
    expect(error.code).toBe('immutable_parameter')
    expect(error.details![0]!.path).toBe(`${a.clientId}: parameters.siteId`)
    expect(h.store.getDeployment(id)!.digest).toBe(first.targets[0]!.digest)

    // A later deploy that does not mention siteId keeps SID-7 (the same rollout, updated).
    const again = await json<RolloutResult>(rollout({devices: [a.clientId], values: {greeting: 'Moin'}}), 200)
    expect(again.targets[0]!.deploymentId).toBe(id)
    const values = JSON.parse(h.store.getDeployment(id)!.valuesJson) as {resolved: Record<string, unknown>}
    expect(values.resolved).toMatchObject({siteId: 'SID-7', greeting: 'Moin'})
  })
})

describe('in-place updates', () => {
  test('deploying an app a device already has updates it: same deploymentId, new digest, also for a new version', async () => {
    const d = await device()
    const first = await json<RolloutResult>(rollout({devices: [d.clientId], version: '1.0'}), 201)
    const id = first.targets[0]!.deploymentId!
    expect((await publish(helloYaml().replace('version: "1.0"', 'version: "1.1"').replace('revision: 1.0.1', 'revision: 1.1.0'))).status).toBe(201)
    const second = await json<RolloutResult>(rollout({devices: [d.clientId], version: '1.1', values: {greeting: 'Hi'}}), 200)
    expect(second.targets).toEqual([expect.objectContaining({deploymentId: id, action: 'update', appVersion: '1.1'})])
    expect(second.targets[0]!.digest).not.toBe(first.targets[0]!.digest)
    expect(await manifestIds(d)).toEqual([id])
    // The same request again changes nothing.
    const third = await json<RolloutResult & {change: string, revision: number}>(rollout({devices: [d.clientId], version: '1.1', values: {greeting: 'Hi'}}), 200)
    expect(third.targets[0]!.action).toBe('unchanged')
    expect([third.change, third.revision]).toEqual(['unchanged', 2])
  })

  test('PATCH /rollouts changes values and version in place; a rollout that follows the latest moves on publish', async () => {
    const d = await device({labels: {site: 'a'}})
    const r = await json<RolloutResult>(rollout({selector: 'site=a'}), 201)
    const id = r.targets[0]!.deploymentId!
    const patched = await json<RolloutResult>(h.operator('PATCH', `/rollouts/${r.rolloutId}`, {values: {greeting: 'Servus'}}), 200)
    expect(patched.targets[0]).toMatchObject({deploymentId: id, action: 'update'})
    expect((await publish(helloYaml().replace('version: "1.0"', 'version: "1.1"'))).status).toBe(201)
    expect(h.store.getDeployment(id)!.appVersion).toBe('1.1')
    expect(await manifestIds(d)).toEqual([id])

    // Narrowing the selector removes the deployment from devices that no longer match.
    const narrowed = await json<RolloutResult>(h.operator('PATCH', `/rollouts/${r.rolloutId}`, {selector: 'site=b'}), 200)
    expect(narrowed.removed).toEqual([{clientId: d.clientId, deploymentId: id}])
    expect(await manifestIds(d)).toEqual([])
  })

  test('a second rollout of the app onto a device is refused (409, naming the other); DELETE removes and nothing comes back', async () => {
    const d = await device({labels: {site: 'a'}})
    const wide = await json<RolloutResult>(rollout({selector: ''}), 201)
    const refused = await rollout({name: 'pinned', devices: [d.clientId], values: {greeting: 'Pinned'}})
    expect(refused.status).toBe(409)
    const {error} = await json<ErrorBody>(refused)
    expect(error.code).toBe('rollout_conflict')
    expect(error.message).toContain(`rollout ${APP} already targets device ${d.clientId}`)
    // A dry run says the same and changes nothing.
    expect((await rollout({name: 'pinned', devices: [d.clientId], dryRun: true})).status).toBe(409)
    expect((await json<{rollouts: unknown[]}>(h.operator('GET', '/rollouts'))).rollouts).toHaveLength(1)

    const removed = await json<{removed: {deploymentId: string}[]}>(h.operator('DELETE', `/rollouts/${APP}`), 200)
    expect(removed.removed.map(x => x.deploymentId)).toEqual([wide.targets[0]!.deploymentId!])
    expect(await manifestIds(d)).toEqual([])
    // Nothing comes back, also when the device is re-evaluated.
    await label(d, {site: 'b'})
    expect(await manifestIds(d)).toEqual([])
    expect((await h.operator('GET', `/rollouts/${wide.rolloutId}`)).status).toBe(404)
  })
})

describe('dry run', () => {
  test('shows each device\'s YAML and a diff for updates, and stores nothing', async () => {
    const a = await device({labels: {site: 'a'}})
    const b = await device({labels: {site: 'a'}})
    const existing = await json<RolloutResult>(rollout({devices: [a.clientId]}), 201)
    const versionBefore = (await manifest(a)).manifestVersion
    const dry = await json<RolloutResult>(rollout({selector: 'site=a', values: {greeting: 'Hej'}, dryRun: true}), 200)
    // The request updates the existing rollout of the app (same name), so the dry run names it.
    expect(dry.rolloutId).toBe(existing.rolloutId)
    const byDevice = Object.fromEntries(dry.targets.map(t => [t.clientId, t]))
    expect(byDevice[a.clientId]).toMatchObject({action: 'update', deploymentId: existing.targets[0]!.deploymentId})
    expect(byDevice[b.clientId]).toMatchObject({action: 'create', deploymentId: null})
    const doc = parse(byDevice[b.clientId]!.yaml!) as {kind: string, spec: {parameters: {greeting: {value: string}}}}
    expect(doc.kind).toBe('ApplicationDeployment')
    expect(doc.spec.parameters.greeting.value).toBe('Hej')
    const diff = byDevice[a.clientId]!.diff!
    expect(diff).toMatch(/^--- .*\n\+\+\+ .*\n@@ /)
    expect(diff).toContain('-      value: Hello\n')
    expect(diff).toContain('+      value: Hej\n')
    expect(byDevice[b.clientId]!.diff).toBeUndefined()

    expect(await manifestIds(b)).toEqual([])
    expect((await manifest(a)).manifestVersion).toBe(versionBefore)
    expect((await json<{rollouts: unknown[]}>(h.operator('GET', '/rollouts'))).rollouts).toHaveLength(1)
  })
})

describe('rollouts and existing deployments', () => {
  test('the whole-fleet read of present deployments answers for each device what the per-device read does', async () => {
    const [a, b, c, idle] = [await device(), await device(), await device({labels: {site: 'c'}}), await device()]
    const first = await json<RolloutResult>(rollout({devices: [a.clientId, b.clientId]}), 201)
    await json<RolloutResult>(rollout({name: 'second', selector: 'site=c'}), 201)
    const removed = first.targets.find(t => t.clientId === b.clientId)!.deploymentId!
    expect((await h.operator('DELETE', `/deployments/${removed}`)).status).toBeLessThan(300)
    const all = existingForApp(h.store, APP)
    const each = (id: string) => existingOf(h.store, id, APP)
    for (const d of [a, b, c, idle]) expect(all(d.clientId)).toEqual(each(d.clientId))
    // What it reads: a's deployment of the first rollout, c's of the second, none for b (removed) or idle.
    expect([a, b, c, idle].map(d => all(d.clientId).map(e => e.rolloutName))).toEqual([[APP], [], ['second'], []])
    expect(existingForApp(h.store, 'com-example-other')(a.clientId)).toEqual([])
  })

  test('the automatic re-evaluation does not take over a deployment another rollout owns', async () => {
    const d = await device({labels: {site: 'a'}})
    const direct = await json<RolloutResult>(rollout({devices: [d.clientId]}), 201)
    const live = await json<RolloutResult>(rollout({name: 'live', selector: 'site=b'}), 201)
    await label(d, {site: 'b'})
    expect(await manifestIds(d)).toEqual([direct.targets[0]!.deploymentId!])
    const detail = await json<{skipped: {reason: string}[]}>(h.operator('GET', `/rollouts/${live.rolloutId}`), 200)
    expect(detail.skipped[0]!.reason).toContain(`of rollout ${APP}, which keeps it`)
  })

  test('the deployment view keeps working for rollout deployments', async () => {
    const d = await device()
    const r = await json<RolloutResult>(rollout({devices: [d.clientId]}), 201)
    const dep = await json<{deploymentId: string, desired: string}>(h.operator('GET', `/deployments/${r.targets[0]!.deploymentId}`), 200)
    expect(dep.desired).toBe('present')
  })
})

describe('client mistakes', () => {
  test('malformed bodies are 4xx, never 500', async () => {
    const d = await device({labels: {site: 'a'}})
    const r = await json<RolloutResult>(rollout({selector: 'site=a'}), 201)
    const cases: [string, string, unknown][] = [
      ['POST', '/rollouts', {appId: APP, name: 'fresh'}],
      ['POST', '/rollouts', {appId: APP, name: 'Not_A_Label', selector: ''}],
      ['POST', '/rollouts', {appId: 'other-app', name: APP, selector: ''}],
      ['POST', `/rollouts/${APP}/undo`, {toRevision: 'x'}],
      ['POST', `/rollouts/${APP}/undo`, {toRevision: 9}],
      ['POST', '/rollouts', {appId: APP, devices: [d.clientId], selector: 'a'}],
      ['POST', '/rollouts', {appId: APP, devices: []}],
      ['POST', '/rollouts', {appId: APP, devices: 'x'}],
      ['POST', '/rollouts', {appId: APP, selector: 7}],
      ['POST', '/rollouts', {appId: APP, selector: '', values: {greeting: {deep: true}}}],
      ['POST', '/rollouts', {appId: APP, selector: '', values: {replicas: [1, 2]}}],
      ['POST', '/rollouts', {appId: APP, selector: '', dryRun: 'yes'}],
      ['POST', '/rollouts', '[1,2]'],
      ['PATCH', `/rollouts/${r.rolloutId}`, {version: 3}],
      ['PATCH', `/rollouts/${r.rolloutId}`, {version: '9.9'}],
      ['PATCH', `/rollouts/${r.rolloutId}`, {selector: 'a in'}],
      ['PATCH', `/rollouts/${r.rolloutId}`, {values: 'x'}],
      ['PATCH', '/rollouts/nope', {}],
      ['DELETE', '/rollouts/nope', undefined],
      ['PUT', `/devices/${d.clientId}/labels`, {labels: 'x'}],
      ['PUT', `/devices/${d.clientId}/labels`, {}],
    ]
    for (const [method, path, body] of cases) {
      const res = await h.operator(method, path, body)
      expect({method, path, body, status: res.status >= 400 && res.status < 500}).toEqual({method, path, body, status: true})
    }
  })
})
