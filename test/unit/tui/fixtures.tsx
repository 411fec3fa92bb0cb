import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {render} from 'ink-testing-library'
import {parseApplicationDescription} from '../../../src/margo/package/description.ts'
import {ValidationError} from '../../../src/util/errors.ts'
import type {App, AppSummary, Deployment, DeploymentWithTimeline, Device, DeviceWithDeployments, RolloutDetail, RolloutResult, RolloutSummary} from '../../../src/operator-contract/views.ts'
import type {RolloutProgress} from '../../../src/operator-contract/strategy.ts'
import type {CreateDeploymentRequest, RolloutRequest} from '../../../src/operator-contract/requests.ts'
import {App as TuiApp} from '../../../src/tui/App.tsx'
import type {FleetEvent, FleetEventSource} from '../../../src/tui/event-source.ts'
import type {StreamStatus} from '../../../src/tui/model/state.ts'
import type {FleetApi} from '../../../src/tui/use-tui.ts'

export const NOW = Date.parse('2025-03-01T12:00:00.000Z')
export const minutesAgo = (m: number) => new Date(NOW - m * 60_000).toISOString()

export const DEV_A = '3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c'
export const DEV_B = '7b1d4c2e-0000-4c1e-9a51-0d1e2f3a4b5d'
export const DEV_C = 'c9e8d7f6-1111-4c1e-9a51-0d1e2f3a4b5e'
export const APP_ID = 'com-northstartida-hello-world'

const HELLO = join(import.meta.dir, '../../fixtures/apps/hello-world/margo.yaml')

/** The hello-world app as the operator API returns it: the catalog's normalised description. */
export function helloApp(): App {
  const parsed = parseApplicationDescription(readFileSync(HELLO, 'utf8'))
  if (!parsed.ok) throw new Error('fixture does not parse')
  const profiles = parsed.value.deploymentProfiles.map(p => ({id: p.id, type: p.type}))
  return {
    appId: APP_ID, name: 'Hello World', latestVersion: '1.0',
    versions: [{version: '1.0', publishedAt: minutesAgo(60), profiles}],
    description: JSON.parse(JSON.stringify(parsed.value)),
  }
}

export function device(clientId: string, lastSeenMinutes: number | null, over: Partial<Device> = {}): Device {
  return {
    clientId, enrollment: 'active',
    certificate: {fingerprint: `sha256:${'cd'.repeat(32)}`, subject: `CN=${clientId.slice(0, 4)}`, keyType: 'ec-p256', notAfter: '2026-01-01T00:00:00.000Z'},
    onboardedAt: minutesAgo(600 - clientId.charCodeAt(0)),
    lastSeenAt: lastSeenMinutes === null ? null : minutesAgo(lastSeenMinutes),
    capabilities: {properties: {vendor: 'Northstar', modelNumber: 'X1', resources: {cpu: {cores: 4, architecture: 'arm64'}, memory: '8Gi'}}},
    capabilitiesUpdatedAt: minutesAgo(590),
    manifestVersion: 2,
    labels: {site: `plant-${clientId[0]}`},
    ...over,
  }
}

export function deployment(id: string, clientId: string, state: string | null, over: Partial<Deployment> = {}): Deployment {
  return {
    deploymentId: id, clientId, appId: APP_ID, appVersion: '1.0',
    profile: {id: 'com-northstartida-hello-world-compose-a', type: 'compose'},
    values: {greeting: 'Hello', siteId: 'SID-1', replicas: 1}, digest: `sha256:${'ab'.repeat(32)}`,
    desired: 'present', createdAt: minutesAgo(30), updatedAt: minutesAgo(30),
    status: state === null ? null : {state: state as never, error: null, components: [{name: 'hello-world-compose', state: state as never}], reportedAt: minutesAgo(5)},
    ...over,
  }
}

/** An in-memory operator API that records what the TUI asked for. */
export class FakeApi implements FleetApi {
  devices: Device[]
  apps: App[]
  deployments: Deployment[]
  timelines = new Map<string, DeploymentWithTimeline['timeline']>()
  calls: string[] = []
  created: CreateDeploymentRequest[] = []
  /** When set, createDeployment refuses with these field errors (as the server's 422). */
  reject?: {message: string, details: {path: string, message: string}[]}

  constructor(init: {devices?: Device[], apps?: App[], deployments?: Deployment[]} = {}) {
    this.devices = init.devices ?? [device(DEV_A, 1), device(DEV_B, 20), device(DEV_C, 90)]
    this.apps = init.apps ?? [helloApp()]
    this.deployments = init.deployments ?? [deployment('d-1111', DEV_A, 'installed'), deployment('d-2222', DEV_B, 'failed', {status: {state: 'failed', error: {code: 'pull_failed', message: 'image not found'}, components: [], reportedAt: minutesAgo(3)}})]
  }

  async listDevices() { this.calls.push('listDevices'); return structuredClone(this.devices) }
  async listApps(): Promise<AppSummary[]> { this.calls.push('listApps'); return this.apps.map(({description: _d, ...s}) => structuredClone(s)) }
  async listDeployments() { this.calls.push('listDeployments'); return structuredClone(this.deployments) }
  async getDevice(clientId: string): Promise<DeviceWithDeployments> {
    this.calls.push(`getDevice ${clientId}`)
    const d = this.devices.find(x => x.clientId === clientId)
    if (!d) throw new Error(`device ${clientId} not found`)
    return {...structuredClone(d), deployments: structuredClone(this.deployments.filter(x => x.clientId === clientId))}
  }
  async getDeployment(id: string): Promise<DeploymentWithTimeline> {
    this.calls.push(`getDeployment ${id}`)
    const d = this.deployments.find(x => x.deploymentId === id)
    if (!d) throw new Error(`deployment ${id} not found`)
    return {...structuredClone(d), timeline: this.timelines.get(id) ?? []}
  }
  async getApp(appId: string) {
    this.calls.push(`getApp ${appId}`)
    const a = this.apps.find(x => x.appId === appId)
    if (!a) throw new Error(`app ${appId} not found`)
    return structuredClone(a)
  }
  async createDeployment(request: CreateDeploymentRequest) {
    this.calls.push(`createDeployment ${request.clientId}`)
    if (this.reject) throw new ValidationError(this.reject.message, this.reject.details, {code: 'invalid_parameters'})
    this.created.push(request)
    const d = deployment(`new-${this.created.length}`, request.clientId, null, {createdAt: new Date(NOW).toISOString(), values: request.values ?? {}})
    this.deployments.push(d)
    return structuredClone(d)
  }
  /** Rollouts with their detail; the list gives their summaries. */
  rollouts: RolloutDetail[] = []
  deploys: RolloutRequest[] = []
  async listRollouts(filter: {appId?: string} = {}): Promise<RolloutSummary[]> {
    this.calls.push(`listRollouts${filter.appId ? ` ${filter.appId}` : ''}`)
    return this.rollouts.filter(r => !filter.appId || r.appId === filter.appId).map(({targets, skipped: _s, progress: _p, appVersion: _v, ...r}) => ({...structuredClone(r), deployments: targets.length}))
  }
  async getRollout(name: string): Promise<RolloutDetail> {
    this.calls.push(`getRollout ${name}`)
    const r = this.rollouts.find(x => x.name === name)
    if (!r) throw new Error(`rollout ${name} not found`)
    return structuredClone(r)
  }
  /** When set, pause/resume/abort refuse with this message (as the server's 409). */
  refuseControl?: string
  async controlRollout(name: string, action: 'pause' | 'resume' | 'abort'): Promise<RolloutProgress> {
    this.calls.push(`controlRollout ${name} ${action}`)
    if (this.refuseControl) throw new Error(this.refuseControl)
    const r = this.rollouts.find(x => x.name === name)
    if (!r?.progress) throw new Error(`rollout ${name} is not staged`)
    const p = r.progress
    if (action === 'pause') r.progress = {...p, phase: 'paused', pause: {code: 'operator', by: 'operator', reason: 'paused by operator'}}
    else if (action === 'resume') r.progress = {...p, phase: 'running', pause: null}
    else r.progress = {...p, phase: 'aborted', pause: null, endedBy: 'operator'}
    return structuredClone(r.progress)
  }
  async deployRollout(request: RolloutRequest): Promise<RolloutResult> {
    this.calls.push(`deployRollout ${request.name ?? request.appId}`)
    if (this.reject) throw new ValidationError(this.reject.message, this.reject.details, {code: 'invalid_parameters'})
    this.deploys.push(request)
    const existing = this.rollouts.find(r => r.name === (request.name ?? request.appId))
    const targets = (request.devices ?? existing?.devices ?? []).map(clientId => {
      const d = deployment(`new-${this.deploys.length}-${clientId.slice(0, 4)}`, clientId, null, {createdAt: new Date(NOW).toISOString(), values: request.values ?? {}})
      this.deployments.push(d)
      return {clientId, deploymentId: d.deploymentId, action: existing ? 'update' as const : 'create' as const, appVersion: '1.0', profile: d.profile, digest: d.digest}
    })
    return {
      rolloutId: 'r-1', name: request.name ?? request.appId, revision: (existing?.revision ?? 0) + 1, change: existing ? 'updated' : 'created', changed: existing ? ['values'] : [],
      dryRun: false, appId: request.appId, version: request.version ?? null, appVersion: '1.0', selector: request.selector ?? null, devices: request.devices ?? [],
      targets, removed: [], skipped: [],
    }
  }
  async deleteDeployment(id: string) {
    this.calls.push(`deleteDeployment ${id}`)
    const d = this.deployments.find(x => x.deploymentId === id)
    if (!d) throw new Error(`deployment ${id} not found`)
    d.desired = 'absent'
    return structuredClone(d)
  }

  async approveDevice(clientId: string) {
    this.calls.push(`approveDevice ${clientId}`)
    const d = this.devices.find(x => x.clientId === clientId)
    if (!d) throw new Error(`device ${clientId} not found`)
    d.enrollment = 'active'
    return structuredClone(d)
  }
}

/** An event source the test drives by hand. */
export class FakeEvents implements FleetEventSource {
  listeners: ((e: FleetEvent) => void)[] = []
  status?: (s: StreamStatus) => void
  constructor(private readonly initial: StreamStatus = 'live') {}
  subscribe(onEvent: (e: FleetEvent) => void, onStatus?: (s: StreamStatus) => void) {
    this.listeners.push(onEvent)
    this.status = onStatus
    onStatus?.(this.initial)
    return () => { this.listeners = this.listeners.filter(l => l !== onEvent) }
  }
  emit(e: FleetEvent) { for (const l of this.listeners) l(e) }
}

export const KEY = {up: '\u001B[A', down: '\u001B[B', left: '\u001B[D', right: '\u001B[C', enter: '\r', esc: '\u001B', tab: '\t', backspace: '\u007F'} as const

// biome-ignore lint/suspicious/noControlCharactersInRegex: matches terminal escape sequences
export const stripAnsi = (s: string) => s.replace(/\u001B\[[0-9;]*[A-Za-z]/g, '')

export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = check()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}

/** Renders the dashboard (80×24 unless told) against a fake API; keys are written one at a time, ~20 ms apart. */
export async function start(api = new FakeApi(), events: FleetEventSource = new FakeEvents(), extra: {pollMs?: number, onQuit?: () => void, size?: {columns: number, rows: number}} = {}) {
  const ui = render(<TuiApp api={api} events={events} size={{columns: 80, rows: 24}} now={() => NOW} debounceMs={0} {...extra} />)
  const frame = () => stripAnsi(ui.lastFrame() ?? '')
  const until = (pattern: RegExp | string, timeoutMs?: number) =>
    waitFor(`screen to show ${pattern}\n--- last frame ---\n${frame()}`, () => (typeof pattern === 'string' ? frame().includes(pattern) : pattern.test(frame())) ? frame() : undefined, timeoutMs)
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      ui.stdin.write(k)
      await Bun.sleep(25)
    }
  }
  await until(/DEVICE\s+ENROLLED/)
  await waitFor('data', () => !frame().includes('loading…'))
  return {ui, api, frame, until, press, rawFrame: () => ui.lastFrame() ?? ''}
}

/**
 * A staged rollout paused by its failure threshold in wave 2 of 3: DEV_A installed in wave 1,
 * DEV_B failed in wave 2, DEV_C waiting for wave 3.
 */
export function stagedRollout(over: Partial<RolloutDetail> = {}): RolloutDetail {
  return {
    rolloutId: 'r-canary', name: 'canary', revision: 2, appId: APP_ID, version: null, selector: 'site', devices: [], profile: null, values: {},
    strategy: {waves: [{kind: 'count', count: 1}, {kind: 'percent', percent: 50}], maxUnavailable: null, failureThreshold: {count: 0}, waveTimeoutMs: 1_800_000, offline: 'wait', pauseBetweenMs: 0, manual: false, onFailure: 'pause'},
    createdAt: minutesAgo(40), updatedAt: minutesAgo(40), appVersion: '1.0',
    targets: [deployment('d-1111', DEV_A, 'installed'), deployment('d-2222', DEV_B, 'failed', {status: {state: 'failed', error: {code: 'pull_failed', message: 'image not found'}, components: [], reportedAt: minutesAgo(3)}})],
    skipped: [],
    progress: {
      phase: 'paused', wave: 2,
      waves: [
        {wave: 1, spec: '1', size: 1, done: 1, failed: 0, excluded: 0, pending: 0, waiting: 0},
        {wave: 2, spec: '50%', size: 1, done: 0, failed: 1, excluded: 0, pending: 0, waiting: 0},
        {wave: 3, spec: 'rest', size: 1, done: 0, failed: 0, excluded: 0, pending: 0, waiting: 1},
      ],
      pause: {code: 'threshold', by: 'failure threshold', reason: '1 of 1 failed in wave 2 (threshold 0)'},
      nextWaveAt: null, endedBy: null,
      notConverged: [
        {clientId: DEV_B, wave: 2, reason: {code: 'failed', errorCode: 'pull_failed', message: 'image not found'}},
        {clientId: DEV_C, wave: 3, reason: {code: 'waiting_for_wave', wave: 3, currentWave: 2}},
      ],
    },
    ...over,
  }
}
