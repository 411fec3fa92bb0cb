import {describe, expect, test} from 'bun:test'
import {buildOverview, buildTargetStatus, countsInOverview, lastErrorOf, type ClientInput, type DeploymentInput, type ReportInput} from '../../../src/server/fleet-status/views.ts'

const now = new Date('2026-11-23T12:00:00.000Z')
const ago = (min: number) => new Date(now.getTime() - min * 60_000).toISOString()
const clock = {now, thresholds: {staleAfterMs: 15 * 60_000, offlineAfterMs: 60 * 60_000}}

const client = (clientId: string, enrollment: ClientInput['enrollment'], lastSeenAt: string | null): ClientInput => ({clientId, enrollment, lastSeenAt, labels: {}})
const deployment = (deploymentId: string, clientId: string, desired: DeploymentInput['desired'] = 'present'): DeploymentInput => ({
  deploymentId, clientId, appId: 'app', appVersion: '1.0', profileId: 'p', profileType: 'compose', digest: 'sha256:x', desired, createdAt: ago(100), updatedAt: ago(100),
})
const report = (state: string, at: string, error?: object, components: object[] = []): ReportInput => ({
  state, receivedAt: at, errorJson: error ? JSON.stringify(error) : null, componentsJson: JSON.stringify(components),
})

describe('fleet overview', () => {
  test('counts devices by liveness (active only) and enrollment; lists the stale and offline ones, freshest first', () => {
    const clients = [
      client('on', 'active', ago(1)),
      client('st', 'active', ago(20)),
      client('off', 'active', ago(90)),
      client('never', 'active', null),
      client('pend', 'pending', null),
      client('rev', 'revoked', ago(1)),
    ]
    const o = buildOverview(clients, [], new Map(), clock)
    expect(o.devices).toEqual({total: 6, online: 1, stale: 1, offline: 2, active: 4, pending: 1, revoked: 1})
    expect(o.staleOrOfflineDevices.map(d => [d.clientId, d.liveness])).toEqual([['st', 'stale'], ['off', 'offline'], ['never', 'offline']])
    expect(o.thresholds).toEqual({staleAfterSeconds: 900, offlineAfterSeconds: 3600})
    expect(o.generatedAt).toBe(now.toISOString())
  })

  test('an unflushed last-seen time brings a stored-stale device back online', () => {
    const clients = [client('a', 'active', ago(30))]
    expect(buildOverview(clients, [], new Map(), clock).devices.stale).toBe(1)
    const o = buildOverview(clients, [], new Map(), {...clock, pendingSeen: new Map([['a', ago(0)]])})
    expect(o.devices).toMatchObject({online: 1, stale: 0})
    expect(o.staleOrOfflineDevices).toEqual([])
  })

  test('deployments by latest state, unreported until a report; removals count until removed; failed listed newest first with the error', () => {
    const deployments = [
      deployment('ok', 'a'), deployment('new', 'a'), deployment('bad1', 'a'), deployment('bad2', 'a'),
      deployment('going', 'a', 'absent'), deployment('gone', 'a', 'absent'), deployment('never-seen', 'a', 'absent'),
    ]
    const latest = new Map([
      ['ok', report('installed', ago(5))],
      ['bad1', report('failed', ago(10), {code: 'PULL', message: 'image not found'})],
      ['bad2', report('failed', ago(2), undefined, [{name: 'web', state: 'failed', error: {code: 'CRASH', message: 'exit 1'}}])],
      ['going', report('removing', ago(1))],
      ['gone', report('removed', ago(1))],
    ])
    const o = buildOverview([], deployments, latest, clock)
    expect(o.deployments).toEqual({total: 5, byState: {installed: 1, unreported: 1, failed: 2, removing: 1}})
    expect(o.failedDeployments.map(f => [f.deploymentId, f.error])).toEqual([
      ['bad2', {code: 'CRASH', message: 'exit 1'}],
      ['bad1', {code: 'PULL', message: 'image not found'}],
    ])
    expect(countsInOverview({desired: 'absent'}, undefined)).toBe(false)
  })
})

describe('target status', () => {
  test('state, components and timeline come from the reports; the last error survives a later success', () => {
    const timeline = [
      report('installing', ago(30)),
      report('failed', ago(20), {code: 'PULL', message: 'timeout'}),
      report('installing', ago(10), {code: '', message: ''}),
      report('installed', ago(5), undefined, [{name: 'web', state: 'installed'}]),
    ]
    const t = buildTargetStatus('dep', 'deployment', [client('a', 'active', ago(1))], [{deployment: deployment('dep', 'a'), timeline}], clock)
    const d = t.deployments[0]!
    expect(d.state).toBe('installed')
    expect(d.reportedAt).toBe(ago(5))
    expect(d.error).toBeNull()
    expect(d.components).toEqual([{name: 'web', state: 'installed', error: null}])
    expect(d.lastError).toEqual({at: ago(20), state: 'failed', code: 'PULL', message: 'timeout'})
    expect(d.timeline.map(e => e.state)).toEqual(['installing', 'failed', 'installing', 'installed'])
    expect(t.devices).toEqual([{clientId: 'a', enrollment: 'active', liveness: 'online', lastSeenAt: ago(1), labels: {}}])
  })

  test('a deployment without reports is unreported; a component error counts as the last error and names the component', () => {
    const t = buildTargetStatus('a', 'device', [client('a', 'active', null)], [{deployment: deployment('dep', 'a'), timeline: []}], clock)
    expect(t.deployments[0]).toMatchObject({state: 'unreported', reportedAt: null, lastError: null, timeline: []})
    expect(lastErrorOf([{at: 'T', state: 'failed', error: null, components: [{name: 'db', state: 'failed', error: {message: 'disk full'}}]}]))
      .toEqual({at: 'T', state: 'failed', component: 'db', message: 'disk full'})
  })
})
