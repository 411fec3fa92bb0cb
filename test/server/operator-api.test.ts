import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import {parse} from 'yaml'
import {createHarness, capabilitiesBody, HELLO_WORLD, statusBody, TestDevice, TOKEN, type Harness} from './harness.ts'

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

describe('ids as people type them: a unique prefix of at least 4 characters', () => {
  const APP = 'com-northstartida-hello-world'
  /** Two devices whose ids share their first 8 characters, as a fleet may hold by chance. */
  function twins() {
    const base = {fingerprint: '', certificatePem: '', subject: 'CN=twin', keyType: 'ec-p256', notAfter: '2099-01-01T00:00:00.000Z', enrollment: 'pending' as const, onboardedAt: '2025-01-01T00:00:00.000Z'}
    const ids = ['abcd1234-1000-4000-8000-000000000001', 'abcd1234-2000-4000-8000-000000000002']
    for (const [i, clientId] of ids.entries()) h.store.insertClient({...base, clientId, fingerprint: `sha256:${String(i).repeat(64)}`})
    return ids
  }
  const body = async <T>(res: Response | Promise<Response>) => (await (await res).json()) as T

  test('devices: show, approve and label by prefix; the answer carries the full id', async () => {
    const d = await device()
    const prefix = d.clientId.slice(0, 8)
    const shown = await h.operator('GET', `/devices/${prefix}`)
    expect(shown.status).toBe(200)
    expect((await body<{clientId: string}>(shown)).clientId).toBe(d.clientId)
    expect((await body<{clientId: string}>(h.operator('POST', `/devices/${prefix.slice(0, 4)}/approve`))).clientId).toBe(d.clientId)
    const labelled = await body<{clientId: string, labels: Record<string, string>}>(h.operator('PATCH', `/devices/${prefix}/labels`, {labels: {site: 'a'}}))
    expect(labelled).toMatchObject({clientId: d.clientId, labels: {site: 'a'}})
    expect(h.store.getClient(d.clientId)!.labels).toEqual({site: 'a'})
  })

  test('deployments, rollouts and status by prefix; deploy --device by prefix stores the full id', async () => {
    await publish()
    const d = await device()
    const created = await h.operator('POST', '/rollouts', {appId: APP, devices: [d.clientId.slice(0, 6)]})
    expect(created.status).toBe(201)
    const rollout = await body<{rolloutId: string, devices: string[], targets: {deploymentId: string}[]}>(created)
    expect(rollout.devices).toEqual([d.clientId])
    const deploymentId = rollout.targets[0]!.deploymentId
    expect((await body<{deploymentId: string}>(h.operator('GET', `/deployments/${deploymentId.slice(0, 8)}`))).deploymentId).toBe(deploymentId)
    expect((await body<{rolloutId: string}>(h.operator('GET', `/rollouts/${rollout.rolloutId.slice(0, 8)}`))).rolloutId).toBe(rollout.rolloutId)
    const status = await body<{id: string, kind: string}>(h.operator('GET', `/status/${deploymentId.slice(0, 8)}`))
    expect(status).toMatchObject({id: deploymentId, kind: 'deployment'})
    expect(await body<{id: string, kind: string}>(h.operator('GET', `/status/${d.clientId.slice(0, 8)}`))).toMatchObject({id: d.clientId, kind: 'device'})
    const direct = await h.operator('POST', '/deployments', {appId: APP, clientId: d.clientId.slice(0, 8)})
    expect(direct.status).toBe(201)
    expect((await body<{clientId: string}>(direct)).clientId).toBe(d.clientId)
    expect((await h.operator('DELETE', `/rollouts/${rollout.rolloutId.slice(0, 8)}`)).status).toBe(200)
  })

  test('GET /ids/{prefix} says which id of which kind a prefix names', async () => {
    await publish()
    const d = await device()
    expect(await body(h.operator('GET', `/ids/${d.clientId.slice(0, 8)}`))).toEqual({id: d.clientId, kind: 'device'})
    expect(await body(h.operator('GET', `/ids/${d.clientId}?kinds=device,rollout`))).toEqual({id: d.clientId, kind: 'device'})
    expect((await h.operator('GET', `/ids/${d.clientId.slice(0, 8)}?kinds=rollout,deployment`)).status).toBe(404)
    expect((await h.operator('GET', `/ids/${d.clientId.slice(0, 8)}?kinds=gadget`)).status).toBe(400)
  })

  test('an ambiguous prefix is refused naming the candidates; a longer one resolves', async () => {
    const [a, b] = twins()
    const res = await h.operator('GET', '/devices/abcd1234')
    expect(res.status).toBe(422)
    const {error} = await body<{error: {code: string, message: string, details: {path: string, message: string}[]}}>(res)
    expect(error.code).toBe('ambiguous_id')
    expect(error.message).toContain(a!)
    expect(error.message).toContain(b!)
    expect(error.message).toContain('give more characters')
    expect(error.details.map(x => x.message)).toEqual([a!, b!])
    expect((await body<{clientId: string}>(h.operator('GET', '/devices/abcd1234-2'))).clientId).toBe(b!)
    expect((await h.operator('GET', '/status/abcd1234')).status).toBe(422)
  })

  test('unknown or too short prefixes are not found; full ids work unchanged', async () => {
    const [a] = twins()
    const unknown = await h.operator('GET', '/devices/ffff9999')
    expect(unknown.status).toBe(404)
    expect((await body<{error: {code: string}}>(unknown)).error.code).toBe('device_not_found')
    expect((await h.operator('GET', '/devices/abc')).status).toBe(404)
    expect((await h.operator('GET', `/devices/${a}`)).status).toBe(200)
    expect((await h.operator('GET', '/deployments/abcd1234')).status).toBe(404)
    expect((await h.operator('GET', '/rollouts/abcd')).status).toBe(404)
  })
})

describe('the CLI with shortened ids, against the operator API on loopback', () => {
  const MAIN = new URL('../../src/main.ts', import.meta.url).pathname
  async function margo(server: string, ...args: string[]) {
    const proc = Bun.spawn([process.execPath, MAIN, ...args, '--server', server, '--token', TOKEN], {
      stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1', MARGO_DATA_DIR: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent'},
    })
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    return {stdout, stderr, code}
  }

  test('show, status and undeploy take a prefix; an ambiguous one is exit 2 naming the candidates, an unknown one exit 3', async () => {
    const server = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: r => h.app.handle(r)})
    const url = `http://127.0.0.1:${server.port}`
    try {
      await publish()
      const d = await device()
      const twins = ['abcd1234-1000-4000-8000-000000000001', 'abcd1234-2000-4000-8000-000000000002']
      for (const [i, clientId] of twins.entries()) {
        h.store.insertClient({
          clientId, fingerprint: `sha256:${String(i).repeat(64)}`, certificatePem: '', subject: 'CN=twin', keyType: 'ec-p256',
          notAfter: '2099-01-01T00:00:00.000Z', enrollment: 'pending', onboardedAt: '2025-01-01T00:00:00.000Z',
        })
      }

      const show = await margo(url, 'device', 'show', d.clientId.slice(0, 8))
      expect(show.stderr).toBe('')
      expect(show.stdout).toContain(d.clientId)

      const ambiguous = await margo(url, 'device', 'approve', 'abcd')
      expect(ambiguous.code).toBe(2)
      const lines = ambiguous.stderr.trimEnd().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toStartWith('error: abcd is the start of 2 devices: ')
      for (const id of twins) expect(lines[0]).toContain(id)

      const unknown = await margo(url, 'device', 'show', 'ffff9999')
      expect(unknown.code).toBe(3)
      expect(unknown.stderr).toBe('error: device ffff9999 not found — run: margo device list\n')

      const deployed = await margo(url, 'deploy', 'com-northstartida-hello-world', '--device', d.clientId.slice(0, 8), '--json')
      expect(deployed.stderr).toBe('')
      const {deploymentId} = JSON.parse(deployed.stdout) as {deploymentId: string}
      const status = await margo(url, 'status', deploymentId.slice(0, 8), '--json')
      expect(JSON.parse(status.stdout)).toMatchObject({id: deploymentId, kind: 'deployment'})
      const removed = await margo(url, 'undeploy', deploymentId.slice(0, 8))
      expect(removed.stderr).toBe('')
      expect(removed.stdout).toBe(`${deploymentId}\tabsent\n`)
    } finally {
      server.stop(true)
    }
  }, 30_000)
})
