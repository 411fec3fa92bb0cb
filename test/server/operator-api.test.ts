import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import {parse} from 'yaml'
import {createHarness, capabilitiesBody, HELLO_WORLD, statusBody, TestDevice, type Harness} from './harness.ts'

let h: Harness
beforeEach(async () => { h = await createHarness() })
afterEach(() => h.close())

const helloYaml = () => readFileSync(HELLO_WORLD, 'utf8')
const publish = (yaml = helloYaml()) => h.operator('POST', '/apps', yaml, {'content-type': 'application/yaml'})

async function device(roles = ['Standalone Device']) {
  const d = await TestDevice.create(h)
  await d.onboard()
  await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('dev', roles)})
  return d
}

describe('operator API', () => {
  test('requires the bearer token; the OpenAPI document is public', async () => {
    const res = await h.app.handle(new Request('https://wfm.test/operator/v1/devices'))
    expect(res.status).toBe(401)
    expect(((await res.json()) as {error: {code: string}}).error.code).toBe('unauthorized')
    const wrong = await h.app.handle(new Request('https://wfm.test/operator/v1/devices', {headers: {authorization: 'Bearer nope'}}))
    expect(wrong.status).toBe(401)
    const spec = await h.app.handle(new Request('https://wfm.test/operator/v1/openapi.json'))
    expect(((await spec.json()) as {openapi: string}).openapi).toBe('3.1.0')
  })

  test('publishing: 201, idempotent 200 for the same content, 409 for changed content under the same version', async () => {
    expect((await publish()).status).toBe(201)
    expect((await publish()).status).toBe(200)
    const changed = helloYaml().replace('Says hello.', 'Says hi.')
    const res = await publish(changed)
    expect(res.status).toBe(409)
    const v2 = await publish(changed.replace('version: "1.0"', 'version: "1.1"'))
    expect(v2.status).toBe(201)
    const app = (await (await h.operator('GET', '/apps/com-northstartida-hello-world')).json()) as {latestVersion: string, versions: {version: string}[]}
    expect(app.latestVersion).toBe('1.1')
    expect(app.versions.map(v => v.version)).toEqual(['1.0', '1.1'])
  })

  test('WFM-41: an invalid description is refused with every problem and its path', async () => {
    const res = await publish(helloYaml().replace('kind: ApplicationDescription', 'kind: AppDescription').replace('id: com-northstartida-hello-world', 'id: Com.Northstar'))
    expect(res.status).toBe(422)
    const {error} = (await res.json()) as {error: {details: {path: string}[]}}
    const paths = error.details.map(d => d.path)
    expect(paths).toContain('kind')
    expect(paths).toContain('metadata.id')
  })

  test('WFM-47/48: a deployment YAML carries the ids, names and the chosen profile\'s components in order', async () => {
    await publish()
    const d = await device(['Standalone Cluster'])
    const res = await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId})
    expect(res.status).toBe(201)
    const dep = (await res.json()) as {deploymentId: string, digest: string, profile: {type: string}}
    expect(dep.profile.type).toBe('helm.v3')
    const yaml = await d.send('GET', `/api/v1/clients/{clientId}/deployments/${dep.deploymentId}/${dep.digest}`)
    const doc = parse(await yaml.text()) as {apiVersion: string, kind: string, metadata: {name: string, namespace: string, annotations: {id: string, applicationId: string}}, spec: {deploymentProfile: {type: string, components: {name: string}[]}, parameters: Record<string, {value: unknown, targets: {pointer: string}[]}>}}
    expect(doc.apiVersion).toBe('application.margo.org/v1alpha1')
    expect(doc.kind).toBe('ApplicationDeployment')
    expect(doc.metadata.annotations).toEqual({id: dep.deploymentId, applicationId: 'com-northstartida-hello-world'})
    expect(doc.metadata.name).toBeTruthy()
    expect(doc.metadata.namespace).toBeTruthy()
    expect(doc.spec.deploymentProfile.type).toBe('helm.v3')
    expect(doc.spec.deploymentProfile.components.map(c => c.name)).toEqual(['hello-world'])
    expect(doc.spec.parameters.greeting!.targets.map(t => t.pointer)).toEqual(['global.config.appGreeting'])
    expect(doc.spec.parameters.replicas!.value).toBe(1)
  })

  test('the profile follows the device: compose for a standalone device; --profile forces one', async () => {
    await publish()
    const d = await device(['Standalone Device'])
    const res = await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId})
    expect(((await res.json()) as {profile: {type: string}}).profile.type).toBe('compose')
    const forced = await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId, profile: 'helm.v3'})
    expect(forced.status).toBe(201)
  })

  test('WFM-44: values are coerced and validated against configuration.schema before anything is created', async () => {
    await publish()
    const d = await device()
    const ok = await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId, values: {replicas: '3'}})
    expect(ok.status).toBe(201)
    expect(((await ok.json()) as {values: {replicas: unknown}}).values.replicas).toBe(3)
    for (const values of [{replicas: '9'}, {replicas: 'many'}, {greeting: ''}, {greeting: 'x'.repeat(46)}, {unknownKey: 'x'}]) {
      const res = await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId, values})
      expect(res.status).toBe(422)
      expect(((await res.json()) as {error: {code: string}}).error.code).toBe('invalid_parameters')
    }
    expect(h.store.listDeployments()).toHaveLength(1)
  })

  test('invalid values: the message sums up, each problem is named once, in details', async () => {
    await publish()
    const d = await device()
    const res = await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId, values: {replicas: 'many', unknownKey: 'x'}})
    expect(res.status).toBe(422)
    const {error} = (await res.json()) as {error: {message: string, details: {path: string, message: string}[]}}
    expect(error.details).toHaveLength(2)
    for (const detail of error.details) expect(error.message).not.toContain(detail.message)
    expect(error.message).toBe('2 parameter values are invalid')
  })

  test('WFM-45: every setting of the configuration can be given a value, and each reaches the deployment', async () => {
    await publish()
    const d = await device()
    const res = await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId, values: {greeting: 'Ahoj', siteId: 'SID-42', replicas: 4}})
    expect(res.status).toBe(201)
    const dep = (await res.json()) as {deploymentId: string, digest: string}
    const yaml = parse(await (await d.send('GET', `/api/v1/clients/{clientId}/deployments/${dep.deploymentId}/${dep.digest}`)).text()) as {spec: {parameters: Record<string, {value: unknown}>}}
    expect(Object.fromEntries(Object.entries(yaml.spec.parameters).map(([k, v]) => [k, v.value]))).toEqual({greeting: 'Ahoj', siteId: 'SID-42'})
  })

  test('WFM-46/49: updates keep the deploymentId and change the digest; immutable settings cannot change', async () => {
    await publish()
    const d = await device()
    const created = (await (await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId, values: {siteId: 'SID-7'}})).json()) as {deploymentId: string, digest: string}
    const updated = await h.operator('PATCH', `/deployments/${created.deploymentId}`, {values: {greeting: 'Grüezi'}})
    expect(updated.status).toBe(200)
    const u = (await updated.json()) as {deploymentId: string, digest: string}
    expect(u.deploymentId).toBe(created.deploymentId)
    expect(u.digest).not.toBe(created.digest)
    const immutable = await h.operator('PATCH', `/deployments/${created.deploymentId}`, {values: {siteId: 'SID-8'}})
    expect(immutable.status).toBe(422)
    expect(((await immutable.json()) as {error: {code: string}}).error.code).toBe('immutable_parameter')
  })

  test('unknown ids get 404 with a hint; a revoked device cannot receive deployments', async () => {
    await publish()
    const d = await device()
    const noApp = await h.operator('POST', '/deployments', {appId: 'nope', clientId: d.clientId})
    expect(noApp.status).toBe(404)
    expect(((await noApp.json()) as {error: {code: string, message: string}}).error.message).toContain('margo app list')
    expect((await h.operator('GET', '/devices/nope')).status).toBe(404)
    expect((await h.operator('GET', '/deployments/nope')).status).toBe(404)
    await h.operator('POST', `/devices/${d.clientId}/revoke`)
    expect((await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId})).status).toBe(409)
  })

  test('malformed JSON gets 400, never 500', async () => {
    const res = await h.operator('POST', '/deployments', '{not json', {'content-type': 'application/json'})
    expect(res.status).toBe(400)
  })

  test('device and status views', async () => {
    await publish()
    const d = await device()
    await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId})
    const list = (await (await h.operator('GET', '/devices')).json()) as {devices: {clientId: string, enrollment: string, capabilities: unknown, manifestVersion: number}[]}
    expect(list.devices).toHaveLength(1)
    expect(list.devices[0]!.enrollment).toBe('active')
    expect(list.devices[0]!.manifestVersion).toBe(2)
    expect(list.devices[0]!.capabilities).toEqual(capabilitiesBody('dev'))
    const status = (await (await h.operator('GET', '/status')).json()) as {devices: {total: number}, deployments: {total: number, byState: Record<string, number>}}
    expect(status.devices.total).toBe(1)
    expect(status.deployments).toEqual({total: 1, byState: {unreported: 1}})
  })

  test('status: liveness from the flushed last-seen time, failed deployments listed with their error, one view per deployment, device or app', async () => {
    await publish()
    const d = await device()
    const created = await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId})
    const {deploymentId} = (await created.json()) as {deploymentId: string}
    type Overview = {devices: Record<string, number>, deployments: {total: number, byState: Record<string, number>}, failedDeployments: {deploymentId: string, error: unknown}[], staleOrOfflineDevices: {clientId: string, liveness: string}[]}
    const overview = async () => (await (await h.operator('GET', '/status')).json()) as Overview

    // Not flushed yet (and no in-memory map wired in): the stored time says never seen.
    expect((await overview()).devices).toMatchObject({total: 1, active: 1, online: 0, offline: 1})
    h.store.setLastSeen(h.device.lastSeen)
    expect((await overview()).devices).toMatchObject({online: 1, offline: 0})
    h.setClock(new Date(Date.now() + 20 * 60_000))
    expect((await overview()).staleOrOfflineDevices).toEqual([expect.objectContaining({clientId: d.clientId, liveness: 'stale'})])
    h.setClock(null)

    const report = (state: string, error?: {code: string, message: string}) => d.send('POST', `/api/v1/clients/{clientId}/deployments/${deploymentId}/status`, {
      body: {...statusBody(deploymentId, state), status: {state, ...(error ? {error} : {})}},
    })
    await report('installing')
    await report('failed', {code: 'PULL_FAILED', message: 'image not found'})
    const failed = await overview()
    expect(failed.deployments).toEqual({total: 1, byState: {failed: 1}})
    expect(failed.failedDeployments).toEqual([expect.objectContaining({deploymentId, error: {code: 'PULL_FAILED', message: 'image not found'}})])
    await report('installed')

    type Target = {kind: string, devices: {clientId: string}[], deployments: {deploymentId: string, state: string, lastError: unknown, components: unknown[], timeline: {state: string}[]}[]}
    const target = async (id: string) => (await (await h.operator('GET', `/status/${id}`)).json()) as Target
    const one = await target(deploymentId)
    expect(one.kind).toBe('deployment')
    expect(one.deployments[0]).toMatchObject({deploymentId, state: 'installed', components: [{name: 'hello-world-compose', state: 'installed', error: null}]})
    expect(one.deployments[0]!.lastError).toMatchObject({state: 'failed', code: 'PULL_FAILED', message: 'image not found'})
    expect(one.deployments[0]!.timeline.map(e => e.state)).toEqual(['installing', 'failed', 'installed'])
    expect((await target(d.clientId))).toMatchObject({kind: 'device', devices: [{clientId: d.clientId}], deployments: [{deploymentId}]})
    expect((await target('com-northstartida-hello-world'))).toMatchObject({kind: 'app', deployments: [{deploymentId}]})

    const missing = await h.operator('GET', '/status/nothing-here')
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as {error: {code: string, message: string}}).error).toMatchObject({code: 'not_found', message: expect.stringContaining('margo device list')})
  })
})
