import {describe, expect, test} from 'bun:test'
import {isRelevant, viewKey, type StatusView} from '../../../src/client/status.ts'
import type {FleetOverview, TargetStatus} from '../../../src/operator-contract/views.ts'

const overview = (over: Partial<FleetOverview> = {}): StatusView => ({scope: 'fleet', overview: {
  generatedAt: '2026-11-23T12:00:00.000Z',
  thresholds: {staleAfterSeconds: 900, offlineAfterSeconds: 3600},
  devices: {total: 2, online: 1, stale: 1, offline: 0, active: 2, pending: 0, revoked: 0},
  deployments: {total: 1, byState: {installed: 1}},
  failedDeployments: [],
  staleOrOfflineDevices: [{clientId: 'quiet', enrollment: 'active', liveness: 'stale', lastSeenAt: '2026-11-23T11:40:00.000Z', labels: {}}],
  ...over,
}})

const target = (kind: TargetStatus['kind'], liveness: 'online' | 'stale' = 'online'): StatusView => ({scope: 'target', target: {
  id: 'x', kind, generatedAt: '2026-11-23T12:00:00.000Z', thresholds: {staleAfterSeconds: 900, offlineAfterSeconds: 3600},
  devices: [{clientId: 'c1', enrollment: 'active', liveness, lastSeenAt: null, labels: {}}],
  deployments: [{deploymentId: 'd1', clientId: 'c1', appId: 'app', appVersion: '1', profile: {id: 'p', type: 'compose'}, desired: 'present', digest: 'sha256:1',
    createdAt: 't', updatedAt: 't', state: 'installed', reportedAt: 't', error: null, components: [], lastError: null, timeline: []}],
}})

const ev = (type: string, data: Record<string, unknown> = {}) => ({type, data: {type, ...data}})

describe('which events make a watcher fetch', () => {
  test('overview: every deployment and device change, but device.seen only for a device shown as stale or offline', () => {
    const v = overview()
    expect(isRelevant(ev('deployment.status', {deploymentId: 'any'}), v)).toBe(true)
    expect(isRelevant(ev('device.onboarded', {clientId: 'new'}), v)).toBe(true)
    expect(isRelevant(ev('device.seen', {clientId: 'busy'}), v)).toBe(false)
    expect(isRelevant(ev('device.seen', {clientId: 'quiet'}), v)).toBe(true)
    expect(isRelevant(ev('app.published'), v)).toBe(false)
    expect(isRelevant(ev('stream.open'), v)).toBe(true)
  })

  test('one deployment: only its own reports and its device; a device or app view also wants new deployments', () => {
    const one = target('deployment')
    expect(isRelevant(ev('deployment.status', {deploymentId: 'd1', clientId: 'c1'}), one)).toBe(true)
    expect(isRelevant(ev('deployment.status', {deploymentId: 'd2', clientId: 'c1'}), one)).toBe(false)
    expect(isRelevant(ev('deployment.changed', {deploymentId: 'd2', clientId: 'c1'}), one)).toBe(false)
    expect(isRelevant(ev('device.updated', {clientId: 'c1'}), one)).toBe(true)
    expect(isRelevant(ev('device.updated', {clientId: 'c9'}), one)).toBe(false)
    expect(isRelevant(ev('device.seen', {clientId: 'c1'}), one)).toBe(false)
    expect(isRelevant(ev('device.seen', {clientId: 'c1'}), target('deployment', 'stale'))).toBe(true)
    expect(isRelevant(ev('deployment.changed', {deploymentId: 'd2', clientId: 'c1'}), target('app'))).toBe(true)
  })

  test('a view that only differs in when it was generated is not a change', () => {
    const a = overview()
    const b = overview({generatedAt: '2026-11-23T12:00:30.000Z'})
    expect(viewKey(a)).toBe(viewKey(b))
    expect(viewKey(a)).not.toBe(viewKey(overview({deployments: {total: 1, byState: {failed: 1}}})))
  })
})
