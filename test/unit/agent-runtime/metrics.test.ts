import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {DeviceClient} from '../../../src/agent/device-client.ts'
import {createSimulatedDrivers} from '../../../src/agent/drivers/simulated.ts'
import type {AgentContext} from '../../../src/agent/runtime/context.ts'
import {Reconciler} from '../../../src/agent/runtime/reconciler.ts'
import {syncOnce} from '../../../src/agent/runtime/sync-cycle.ts'
import {Outbox} from '../../../src/agent/state/outbox.ts'
import {StateDir} from '../../../src/agent/state/state-dir.ts'
import {WorkloadStore} from '../../../src/agent/state/workloads.ts'
import {createAgentMetrics, serveAgentMetrics, type AgentMetricsRegistry} from '../../../src/agent/telemetry/prometheus.ts'
import {createLogger, silentLogger} from '../../../src/util/log.ts'
import {parseExposition} from '../../exposition.ts'
import {createHarness, HELLO_WORLD, TestDevice, type Harness} from '../../server/harness.ts'

let h: Harness
let dir: string
let ctx: AgentContext
let device: TestDevice
let metrics: AgentMetricsRegistry

beforeEach(async () => {
  h = await createHarness()
  dir = mkdtempSync(join(tmpdir(), 'margo-agent-metrics-'))
  device = await TestDevice.create(h)
  await device.onboard()
  const client = new DeviceClient({server: h.base, caPem: h.device.caCertificatePem, privateKey: device.privateKey, fetch: async (url, init) => h.app.handle(new Request(url, init))})
  client.clientId = device.clientId
  const state = new StateDir(dir)
  metrics = createAgentMetrics({version: '9.9.9', simulated: true})
  ctx = {
    client, state, workloads: new WorkloadStore(state), outbox: new Outbox(state), log: silentLogger,
    drivers: createSimulatedDrivers(), metrics,
    now: () => new Date(), rng: () => 0.5, quiet: () => false,
    driverContext: () => ({workDir: join(dir, 'w'), binaries: {}, download: async () => new Uint8Array(), log: silentLogger}),
  }
  metrics.outboxDepth(() => ctx.outbox.size)
  await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})
})
afterEach(() => {
  h.close()
  rmSync(dir, {recursive: true, force: true})
})

const value = (text: string, name: string, labels: Record<string, string> = {}) =>
  parseExposition(text).samples.find(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value

describe('the agent\'s Prometheus metrics', () => {
  test('a deployment applied against the real server in-process: its apply time by driver, the cycles, the outbox', async () => {
    await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: device.clientId, profile: 'compose'})
    const before = parseExposition(metrics.render())
    expect(before.types.get('margo_agent_sync_cycles_total')).toBe('counter')
    expect(before.samples.some(s => s.name === 'margo_agent_last_successful_sync_timestamp_seconds')).toBe(false)

    const at = new Date('2026-12-04T10:00:00Z')
    const outcome = await syncOnce(ctx)
    metrics.cycle(outcome.kind, at)
    expect(outcome.kind).toBe('accepted')
    // A report waiting for the WFM is counted when scraped.
    ctx.outbox.put({apiVersion: 'margo.org/v1-alpha1', kind: 'DeploymentStatus', deploymentId: '00000000-0000-4000-8000-000000000001', status: {state: 'pending'}, components: []} as never)
    expect(value(metrics.render(), 'margo_agent_outbox_reports')).toBe(1)
    await new Reconciler(ctx).run()
    metrics.cycle('failed', new Date(at.getTime() + 1000))
    metrics.cycle((await syncOnce(ctx)).kind, new Date(at.getTime() + 2000))

    const {types, samples} = parseExposition(metrics.render())
    expect(types.get('margo_agent_apply_duration_seconds')).toBe('histogram')
    expect(types.get('margo_agent_last_successful_sync_timestamp_seconds')).toBe('gauge')
    expect(types.get('margo_agent_outbox_reports')).toBe('gauge')
    const text = metrics.render()
    expect(value(text, 'margo_agent_sync_cycles_total', {outcome: 'accepted'})).toBe(1)
    expect(value(text, 'margo_agent_sync_cycles_total', {outcome: 'failed'})).toBe(1)
    expect(value(text, 'margo_agent_sync_cycles_total', {outcome: 'not-modified'})).toBe(1)
    // The failure in between does not move the last success back.
    expect(value(text, 'margo_agent_last_successful_sync_timestamp_seconds')).toBe(at.getTime() / 1000 + 2)
    expect(value(text, 'margo_agent_apply_duration_seconds_count', {driver: 'simulated', state: 'installed'})).toBe(1)
    expect(value(text, 'margo_agent_apply_duration_seconds_bucket', {driver: 'simulated', le: '+Inf'})).toBe(1)
    expect(value(text, 'margo_agent_apply_duration_seconds_sum', {driver: 'simulated'})).toBeGreaterThan(0)
    expect(value(text, 'margo_agent_outbox_reports')).toBe(ctx.outbox.size)
    expect(value(text, 'margo_build_info', {version: '9.9.9'})).toBe(1)
    expect(value(text, 'process_resident_memory_bytes')).toBeGreaterThan(1e6)
    // Bounded cardinality: no label carries a deployment or device id.
    for (const s of samples) for (const v of Object.values(s.labels)) expect(v).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/)
  })

  test('the driver label names the tool: helm, compose, or simulated when no tool is run', () => {
    const real = createAgentMetrics({version: '1', simulated: false})
    real.applied('helm.v3', 'installed', 2)
    real.applied('compose', 'failed', 0.3)
    const text = real.render()
    expect(value(text, 'margo_agent_apply_duration_seconds_count', {driver: 'helm', state: 'installed'})).toBe(1)
    expect(value(text, 'margo_agent_apply_duration_seconds_bucket', {driver: 'helm', le: '1'})).toBe(0)
    expect(value(text, 'margo_agent_apply_duration_seconds_bucket', {driver: 'helm', le: '2.5'})).toBe(1)
    expect(value(text, 'margo_agent_apply_duration_seconds_count', {driver: 'compose', state: 'failed'})).toBe(1)
  })

  test('the last success from before a restart is shown until a newer one', () => {
    const m = createAgentMetrics({version: '1', simulated: false})
    m.succeededBefore(new Date(5000))
    expect(value(m.render(), 'margo_agent_last_successful_sync_timestamp_seconds')).toBe(5)
    m.cycle('fetch-failed', new Date(9000))
    expect(value(m.render(), 'margo_agent_last_successful_sync_timestamp_seconds')).toBe(5)
    m.cycle('same', new Date(9000))
    expect(value(m.render(), 'margo_agent_last_successful_sync_timestamp_seconds')).toBe(9)
  })

  test('the listener answers GET /metrics on loopback, logs its address when the port was 0, and nothing else', async () => {
    const lines: string[] = []
    const log = createLogger({level: 'info', format: 'json', write: line => lines.push(line)})
    const m = createAgentMetrics({version: '1', simulated: false})
    m.cycle('accepted', new Date(1000))
    const listener = serveAgentMetrics('127.0.0.1:0', m, log)
    try {
      expect(listener.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
      expect(listener.url).not.toContain(':0/')
      expect(lines.join('\n')).toContain(listener.url)
      const res = await fetch(listener.url)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4')
      expect(value(await res.text(), 'margo_agent_sync_cycles_total', {outcome: 'accepted'})).toBe(1)
      expect((await fetch(listener.url.replace('/metrics', '/'))).status).toBe(404)
      expect((await fetch(listener.url, {method: 'POST'})).status).toBe(404)
    } finally {
      listener.stop()
    }
  })
})
