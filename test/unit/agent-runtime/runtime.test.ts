import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {DeviceClient} from '../../../src/agent/device-client.ts'
import {createComposeDriver, createHelmDriver} from '../../../src/agent/drivers/index.ts'
import {reportCapabilities} from '../../../src/agent/runtime/capabilities-reporter.ts'
import type {AgentContext} from '../../../src/agent/runtime/context.ts'
import {Reconciler} from '../../../src/agent/runtime/reconciler.ts'
import {flushOutbox} from '../../../src/agent/runtime/status-sender.ts'
import {syncOnce} from '../../../src/agent/runtime/sync-cycle.ts'
import {loadAccepted} from '../../../src/agent/state/accepted.ts'
import {Outbox} from '../../../src/agent/state/outbox.ts'
import {StateDir} from '../../../src/agent/state/state-dir.ts'
import {WorkloadStore} from '../../../src/agent/state/workloads.ts'
import type {ComponentResult, Driver} from '../../../src/agent/types.ts'
import type {ApplicationDeployment} from '../../../src/margo/deployment.ts'
import {silentLogger} from '../../../src/util/log.ts'
import {createHarness, HELLO_WORLD, TestDevice, type Harness} from '../../server/harness.ts'
import {FAKE_DOCKER, FAKE_HELM, Sandbox} from '../drivers/helpers.ts'

/** A driver that records what it was asked and succeeds (or fails the components named in `failing`). */
function recordingDriver(type: 'helm.v3' | 'compose', calls: string[], failing = new Set<string>()): Driver {
  const run = async (verb: string, d: ApplicationDeployment, done: 'installed' | 'removed', listener?: (r: ComponentResult) => void) => {
    calls.push(`${verb} ${d.metadata.annotations.id}`)
    return d.spec.deploymentProfile.components.map(c => {
      if (verb === 'apply') listener?.({name: c.name, state: 'installing'})
      const r: ComponentResult = failing.has(c.name) ? {name: c.name, state: 'failed', error: {code: 'TEST_FAILURE', message: 'scripted'}} : {name: c.name, state: done}
      listener?.(r)
      return r
    })
  }
  return {
    type,
    apply: (d, _ctx, l) => run('apply', d, 'installed', l),
    remove: (d, _ctx, l) => run('remove', d, 'removed', l),
    status: async d => d.spec.deploymentProfile.components.map(c => ({name: c.name, state: 'installed' as const})),
  }
}

let h: Harness
let dir: string
let ctx: AgentContext
let device: TestDevice
let calls: string[]
let block404 = false

beforeEach(async () => {
  h = await createHarness()
  dir = mkdtempSync(join(tmpdir(), 'margo-agent-runtime-'))
  device = await TestDevice.create(h)
  await device.onboard()
  calls = []
  block404 = false
  const client = new DeviceClient({
    server: h.base, caPem: h.device.caCertificatePem, privateKey: device.privateKey,
    // The in-process server stands in for the network; a switch makes YAML and bundle downloads answer 404.
    fetch: async (url, init) => (block404 && /\/(deployments\/[^/]+\/sha256|bundles)\//.test(url) ? new Response('gone', {status: 404}) : h.app.handle(new Request(url, init))),
  })
  client.clientId = device.clientId
  const state = new StateDir(dir)
  ctx = {
    client, state, workloads: new WorkloadStore(state), outbox: new Outbox(state), log: silentLogger,
    drivers: {'helm.v3': recordingDriver('helm.v3', calls), compose: recordingDriver('compose', calls)},
    now: () => new Date(), rng: () => 0.5, quiet: () => false,
    driverContext: () => ({workDir: join(dir, 'w'), binaries: {}, download: async () => new Uint8Array(), log: silentLogger}),
  }
  await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})
})
afterEach(() => {
  h.close()
  rmSync(dir, {recursive: true, force: true})
})

const deploy = async () => ((await (await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: device.clientId, profile: 'compose'})).json()) as {deploymentId: string})
const timeline = async (id: string) => ((await (await h.operator('GET', `/deployments/${id}`)).json()) as {timeline: {state: string}[]}).timeline.map(e => e.state)

describe('agent runtime against the real server in-process', () => {
  test('CL-12/13: capabilities are POSTed once after onboarding, PUT only when they change', async () => {
    const requests: string[] = []
    const client = ctx.client
    const original = client.reportCapabilities.bind(client)
    client.reportCapabilities = (m, method) => { requests.push(method); return original(m, method) }
    expect(await reportCapabilities(ctx, device.clientId, {workloadDir: dir, overrides: {vendor: 'Acme'}})).toBe('posted')
    expect(await reportCapabilities(ctx, device.clientId, {workloadDir: dir, overrides: {vendor: 'Acme'}})).toBe('unchanged')
    expect(await reportCapabilities(ctx, device.clientId, {workloadDir: dir, overrides: {vendor: 'Acme 2'}})).toBe('put')
    expect(requests).toEqual(['POST', 'PUT'])
    expect(JSON.parse(h.store.getClient(device.clientId)!.capabilitiesJson!).properties.vendor).toBe('Acme 2')
  })

  test('CL-16/17: the first poll adopts manifest 1; the next gets 304 and changes nothing', async () => {
    expect(await syncOnce(ctx)).toEqual({kind: 'accepted', manifestVersion: 1, added: 0, updated: 0, removed: 0})
    const adopted = readFileSync(join(dir, 'accepted.json'), 'utf8')
    expect(await syncOnce(ctx)).toEqual({kind: 'not-modified'})
    expect(readFileSync(join(dir, 'accepted.json'), 'utf8')).toBe(adopted)
  })

  test('CL-24/28/29: a new deployment is reported pending, installing, installed; its removal removing, removed', async () => {
    await syncOnce(ctx)
    const {deploymentId} = await deploy()
    expect((await syncOnce(ctx)).kind).toBe('accepted')
    await new Reconciler(ctx).run()
    await flushOutbox(ctx)
    expect(calls).toEqual([`apply ${deploymentId}`])
    expect(await timeline(deploymentId)).toEqual(['pending', 'installing', 'installed'])

    await h.operator('DELETE', `/deployments/${deploymentId}`)
    await syncOnce(ctx)
    await new Reconciler(ctx).run()
    await flushOutbox(ctx)
    expect(calls).toEqual([`apply ${deploymentId}`, `remove ${deploymentId}`])
    expect((await timeline(deploymentId)).slice(-2)).toEqual(['removing', 'removed'])
    // A removed workload is forgotten on the next pass.
    await new Reconciler(ctx).run()
    expect(ctx.workloads.all()).toEqual([])
  })

  test('CL-21/23: a 404 on the artifacts aborts the update, keeps the previous state and never removes anything', async () => {
    await syncOnce(ctx)
    const {deploymentId} = await deploy()
    await syncOnce(ctx)
    await new Reconciler(ctx).run()
    const before = loadAccepted(ctx.state)!.manifestVersion
    await deploy()
    block404 = true
    expect((await syncOnce(ctx)).kind).toBe('fetch-failed')
    expect(loadAccepted(ctx.state)!.manifestVersion).toBe(before)
    await new Reconciler(ctx).run()
    expect(calls).toEqual([`apply ${deploymentId}`])
    block404 = false
    expect((await syncOnce(ctx)).kind).toBe('accepted')
  })

  test('CL-32: a failed component is reported failed with its error, and retried after back-off', async () => {
    ctx.drivers.compose = recordingDriver('compose', calls, new Set(['hello-world-compose']))
    await syncOnce(ctx)
    const {deploymentId} = await deploy()
    await syncOnce(ctx)
    await new Reconciler(ctx).run()
    await flushOutbox(ctx)
    const view = (await (await h.operator('GET', `/deployments/${deploymentId}`)).json()) as {status: {state: string, error: {code: string}}}
    expect(view.status.state).toBe('failed')
    expect(view.status.error.code).toBe('TEST_FAILURE')
    const record = ctx.workloads.get(deploymentId)!
    expect(record.attempts).toBe(1)
    expect(Date.parse(record.nextAttemptAt!)).toBeGreaterThan(Date.now())
    await new Reconciler(ctx).run()
    expect(calls).toHaveLength(1) // not yet due
  })
})

describe('removing a deployment that never reached the host', () => {
  let fakes: Sandbox
  beforeEach(() => {
    fakes = new Sandbox()
  })
  afterEach(() => fakes.cleanup())

  const deployProfile = async (profile: 'helm.v3' | 'compose') =>
    ((await (await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: device.clientId, profile})).json()) as {deploymentId: string}).deploymentId
  const statusOf = async (id: string) => ((await (await h.operator('GET', `/deployments/${id}`)).json()) as {status: {state: string, error?: {code: string}}}).status
  /** Deploy, let it fail, undeploy: returns the id once the removal pass ran. */
  const failThenUndeploy = async (profile: 'helm.v3' | 'compose', expectedCode: string) => {
    await syncOnce(ctx)
    const id = await deployProfile(profile)
    await syncOnce(ctx)
    await new Reconciler(ctx).run()
    await flushOutbox(ctx)
    expect(await statusOf(id)).toMatchObject({state: 'failed', error: {code: expectedCode}})
    await h.operator('DELETE', `/deployments/${id}`)
    await syncOnce(ctx)
    await new Reconciler(ctx).run()
    await flushOutbox(ctx)
    return id
  }

  test('helm missing: the undeploy is reported removing then removed, and the record is forgotten', async () => {
    ctx.drivers['helm.v3'] = createHelmDriver({path: ''})
    const base = ctx.driverContext
    ctx.driverContext = id => ({...base(id), binaries: {helm: join(dir, 'no-such-helm')}})
    const id = await failThenUndeploy('helm.v3', 'HELM_NOT_FOUND')
    expect((await timeline(id)).slice(-2)).toEqual(['removing', 'removed'])
    await new Reconciler(ctx).run()
    expect(ctx.workloads.all()).toEqual([])
  })

  test('compose package download failed: removed without compose down', async () => {
    ctx.drivers.compose = createComposeDriver({path: ''})
    const base = ctx.driverContext
    ctx.driverContext = id => ({...base(id), binaries: {docker: FAKE_DOCKER}, download: async () => { throw new Error('connection refused') }})
    const id = await failThenUndeploy('compose', 'PACKAGE_DOWNLOAD_FAILED')
    expect((await timeline(id)).slice(-2)).toEqual(['removing', 'removed'])
    const composeCommands = fakes.commands().map(c => c.join(' ')).filter(c => / (up|down)\b/.test(c))
    expect(composeCommands).toEqual([])
  })

  test('a helm install that started and failed is still uninstalled', async () => {
    fakes.env({MARGO_FAKE_HELM_FAIL: 'hello-world'})
    ctx.drivers['helm.v3'] = createHelmDriver({path: ''})
    const base = ctx.driverContext
    ctx.driverContext = id => ({...base(id), binaries: {helm: FAKE_HELM}})
    const id = await failThenUndeploy('helm.v3', 'HELM_INSTALL_FAILED')
    expect(fakes.commands().map(c => c.slice(0, 2).join(' '))).toEqual(['helm upgrade', 'helm uninstall'])
    expect((await timeline(id)).slice(-2)).toEqual(['removing', 'removed'])
  })

  test('an agent killed after the tool was announced uninstalls on restart', async () => {
    // The driver announces its mutating command and the agent dies before any outcome is written.
    const killed = new Error('killed')
    ctx.drivers.compose = {
      ...recordingDriver('compose', calls),
      apply: async (_d, dctx) => {
        dctx.changingHost?.()
        throw killed
      },
    }
    await syncOnce(ctx)
    const id = await deployProfile('compose')
    await syncOnce(ctx)
    await expect(new Reconciler(ctx).run()).rejects.toBe(killed)
    // A restart reads only what reached the disk.
    const restarted: AgentContext = {...ctx, workloads: new WorkloadStore(new StateDir(dir)), drivers: {'helm.v3': recordingDriver('helm.v3', calls), compose: recordingDriver('compose', calls)}}
    expect(restarted.workloads.get(id)).toMatchObject({state: 'installing', intent: {action: 'apply'}, hostChanged: true})
    await h.operator('DELETE', `/deployments/${id}`)
    await syncOnce(restarted)
    await new Reconciler(restarted).run()
    expect(calls).toEqual([`remove ${id}`])
  })
})
