import {describe, expect, test} from 'bun:test'
import {changeLines, renderStatusView, warningReporter, watchUpdate} from '../../../src/cli/render/watch.ts'
import {outputContext} from '../../../src/cli/output.ts'
import type {StatusView} from '../../../src/client/status.ts'
import type {DeploymentStatusView, FleetOverview} from '../../../src/operator-contract/views.ts'

const now = new Date('2026-11-23T12:00:00.000Z')
const tty = outputContext({isTTY: true, env: {NO_COLOR: '1'}, now})
const pipe = outputContext({isTTY: false, env: {}, now})

const overview = (over: Partial<FleetOverview> = {}): StatusView => ({scope: 'fleet', overview: {
  generatedAt: now.toISOString(),
  thresholds: {staleAfterSeconds: 900, offlineAfterSeconds: 3600},
  devices: {total: 3, online: 1, stale: 1, offline: 1, active: 3, pending: 0, revoked: 0},
  deployments: {total: 2, byState: {failed: 1, installed: 1}},
  failedDeployments: [{deploymentId: 'd-bad', clientId: 'c1', appId: 'hello', appVersion: '1.0', error: {code: 'PULL', message: 'image not found'}, reportedAt: '2026-11-23T11:57:00.000Z'}],
  staleOrOfflineDevices: [
    {clientId: 'c2', enrollment: 'active', liveness: 'stale', lastSeenAt: '2026-11-23T11:40:00.000Z', labels: {site: 'plant-7'}},
    {clientId: 'c3', enrollment: 'active', liveness: 'offline', lastSeenAt: null, labels: {}},
  ],
  ...over,
}})

const dep = (over: Partial<DeploymentStatusView> = {}): DeploymentStatusView => ({
  deploymentId: 'd1', clientId: 'c1', appId: 'hello', appVersion: '1.0', profile: {id: 'p', type: 'compose'}, desired: 'present', digest: 'sha256:1',
  createdAt: '2026-11-23T11:00:00.000Z', updatedAt: '2026-11-23T11:00:00.000Z',
  state: 'installed', reportedAt: '2026-11-23T11:58:00.000Z', error: null,
  components: [{name: 'web', state: 'installed', error: null}],
  lastError: {at: '2026-11-23T11:50:00.000Z', state: 'failed', code: 'PULL', message: 'timeout', component: 'web'},
  timeline: [
    {at: '2026-11-23T11:50:00.000Z', state: 'failed', error: {code: 'PULL', message: 'timeout'}, components: []},
    {at: '2026-11-23T11:58:00.000Z', state: 'installed', error: null, components: []},
  ],
  ...over,
})
const target = (deployments: DeploymentStatusView[], liveness: 'online' | 'offline' = 'online'): StatusView => ({scope: 'target', target: {
  id: 'd1', kind: 'deployment', generatedAt: now.toISOString(), thresholds: {staleAfterSeconds: 900, offlineAfterSeconds: 3600},
  devices: [{clientId: 'c1', enrollment: 'active', liveness, lastSeenAt: '2026-11-23T11:59:00.000Z', labels: {}}],
  deployments,
}})

describe('status rendering', () => {
  test('overview on a terminal: liveness counts, states, failed deployments with their error, quiet devices with relative times', () => {
    const text = renderStatusView(overview(), tty)
    expect(text).toContain('3 total: 1 online, 1 stale, 1 offline, 0 pending, 0 revoked')
    expect(text).toContain('2 total: 1 installed, 1 failed')
    expect(text).toMatch(/Failed deployments\nDEPLOYMENT +APP +DEVICE +REPORTED +ERROR\nd-bad +hello@1\.0 +c1 +3m ago +PULL: image not found/)
    expect(text).toMatch(/c2 +stale +20m ago +site=plant-7/)
    expect(text).toMatch(/c3 +offline +never/)
  })

  test('overview piped: key/value counts, then one tab-separated line per failed deployment and quiet device', () => {
    expect(renderStatusView(overview(), pipe).split('\n')).toEqual([
      'devices.total\t3', 'devices.online\t1', 'devices.stale\t1', 'devices.offline\t1', 'devices.pending\t0', 'devices.revoked\t0',
      'deployments.total\t2', 'deployments.installed\t1', 'deployments.failed\t1',
      'failed\td-bad\thello@1.0\tc1\t2026-11-23T11:57:00.000Z\tPULL: image not found',
      'device\tc2\tstale\t2026-11-23T11:40:00.000Z\tsite=plant-7',
      'device\tc3\toffline\t-\t',
    ])
  })

  test('one deployment on a terminal: device liveness, state, last error with its component, components and the timeline in relative times', () => {
    const text = renderStatusView(target([dep()]), tty)
    expect(text).toContain('c1 (online, seen 1m ago)')
    expect(text).toContain('installed (2m ago)')
    expect(text).toContain('PULL: timeout [web] (failed, 10m ago)')
    expect(text).toMatch(/Components\nCOMPONENT +STATE +ERROR\nweb +installed/)
    expect(text).toMatch(/Timeline\nWHEN +STATE +ERROR\n10m ago +failed +PULL: timeout\n2m ago +installed/)
  })

  test('one deployment piped: ISO times, one line per deployment, component, last error and report', () => {
    expect(renderStatusView(target([dep()]), pipe).split('\n')).toEqual([
      'device\tc1\tactive\tonline\t2026-11-23T11:59:00.000Z',
      'deployment\td1\thello\t1.0\tc1\tinstalled\t2026-11-23T11:58:00.000Z\t',
      'component\td1\tweb\tinstalled\t',
      'lasterror\td1\t2026-11-23T11:50:00.000Z\tfailed\tweb\tPULL: timeout',
      'timeline\td1\t2026-11-23T11:50:00.000Z\tfailed\tPULL: timeout',
      'timeline\td1\t2026-11-23T11:58:00.000Z\tinstalled\t',
    ])
  })
})

describe('watch output', () => {
  test('piped overview: the first view prints its state, later views only what changed, one line each', () => {
    const first = overview()
    expect(changeLines(undefined, first)).toEqual([
      '2026-11-23T12:00:00.000Z\tsummary\tdevices online=1 stale=1 offline=1 pending=0 revoked=0\tdeployments total=2 installed=1 failed=1',
      '2026-11-23T11:57:00.000Z\tfailed\td-bad\thello@1.0\tc1\tPULL: image not found',
      '2026-11-23T12:00:00.000Z\tdevice\tc2\tstale\t2026-11-23T11:40:00.000Z',
      '2026-11-23T12:00:00.000Z\tdevice\tc3\toffline\t-',
    ])
    const fleet = first.scope === 'fleet' ? first.overview : undefined
    const recovered = overview({
      devices: {...fleet!.devices, online: 2, stale: 0},
      staleOrOfflineDevices: fleet!.staleOrOfflineDevices.slice(1),
    })
    expect(changeLines(first, recovered)).toEqual([
      '2026-11-23T12:00:00.000Z\tsummary\tdevices online=2 stale=0 offline=1 pending=0 revoked=0\tdeployments total=2 installed=1 failed=1',
      '2026-11-23T12:00:00.000Z\tdevice\tc2\tonline',
    ])
    expect(changeLines(recovered, recovered)).toEqual([])
  })

  test('piped target: a line for each deployment whose report changed', () => {
    const before = target([dep({state: 'installing', reportedAt: '2026-11-23T11:55:00.000Z'}), dep({deploymentId: 'd2'})])
    const after = target([dep(), dep({deploymentId: 'd2'})])
    expect(changeLines(before, after)).toEqual(['2026-11-23T11:58:00.000Z\tdeployment\td1\thello@1.0\tc1\tinstalled\t'])
    expect(changeLines(after, target([dep(), dep({deploymentId: 'd2'})], 'offline'))).toEqual(['2026-11-23T12:00:00.000Z\tdevice\tc1\toffline\t2026-11-23T11:59:00.000Z'])
  })

  test('--json prints one compact document per line; a terminal gets a cleared screen', () => {
    const line = watchUpdate('json', undefined, overview(), pipe)
    expect(line.endsWith('\n')).toBe(true)
    expect(line.trimEnd()).not.toContain('\n')
    expect(JSON.parse(line).deployments.byState).toEqual({failed: 1, installed: 1})
    const frame = watchUpdate('tty', undefined, overview(), tty)
    expect(frame).toStartWith('\u001B[H\u001B[2J')
    expect(frame).toContain('Ctrl-C to stop')
    expect(watchUpdate('lines', overview(), overview(), pipe)).toBe('')
  })

  test('a watch reports the same problem once until it changes', () => {
    const lines: string[] = []
    const warn = warningReporter(l => lines.push(l))
    warn(new Error('cannot reach x: connection refused'))
    warn(new Error('cannot reach x: connection refused'))
    warn(new Error('the event stream of x ended — reconnecting'))
    expect(lines).toEqual(['warning: cannot reach x: connection refused\n', 'warning: the event stream of x ended — reconnecting\n'])
  })
})
