import {describe, expect, test} from 'bun:test'
import {type AgentStatus, agentHealth, nextSyncRecord} from '../../../src/agent/status-view.ts'

const NOW = new Date('2025-06-01T12:00:00Z')
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString()

function status(over: Partial<AgentStatus>): AgentStatus {
  return {stateDir: '/s', clientId: 'c1', server: 'https://wfm', onboardedAt: ago(3600), lastSync: null, manifestVersion: null, adoptedAt: null, deployments: [], pendingReports: 0, ...over}
}

describe('agent health from the state dir', () => {
  test('a recent successful poll is healthy', () => {
    for (const outcome of ['accepted', 'same', 'not-modified']) {
      expect(agentHealth(status({lastSync: {at: ago(60), outcome}}), NOW).healthy).toBe(true)
    }
  })

  test('not onboarded, or never polled, is unhealthy', () => {
    expect(agentHealth(status({clientId: null}), NOW)).toEqual({healthy: false, reason: 'not onboarded yet'})
    expect(agentHealth(status({}), NOW)).toEqual({healthy: false, reason: 'no poll recorded yet'})
    expect(agentHealth(status({lastSync: {at: ago(5), outcome: 'failed', detail: 'connection refused'}}), NOW)).toEqual({healthy: false, reason: 'no successful poll yet (last: failed: connection refused)'})
  })

  test('a successful poll older than the limit is unhealthy (default 15 minutes, or as given)', () => {
    const s = status({lastSync: {at: ago(901), outcome: 'same'}})
    expect(agentHealth(s, NOW).healthy).toBe(false)
    expect(agentHealth(s, NOW).reason).toContain('longer ago than 900s')
    expect(agentHealth(s, NOW, 3600_000).healthy).toBe(true)
  })

  test('a failed poll after a recent good one stays healthy until the good one is too old', () => {
    const failed = nextSyncRecord({at: ago(120), outcome: 'accepted'}, new Date(NOW.getTime() - 10_000), 'failed', 'timeout')
    expect(failed).toEqual({at: ago(10), outcome: 'failed', detail: 'timeout', lastSuccessAt: ago(120)})
    expect(agentHealth(status({lastSync: failed}), NOW).healthy).toBe(true)
    const later = nextSyncRecord(failed, NOW, 'failed', 'timeout')
    expect(later.lastSuccessAt).toBe(ago(120))
    const h = agentHealth(status({lastSync: later}), NOW, 60_000)
    expect(h.healthy).toBe(false)
    expect(h.reason).toContain('last poll 2025-06-01T12:00:00.000Z: failed: timeout')
  })

  test('a successful poll starts a fresh record', () => {
    expect(nextSyncRecord({at: ago(60), outcome: 'failed', lastSuccessAt: ago(600)}, NOW, 'same')).toEqual({at: NOW.toISOString(), outcome: 'same'})
    expect(nextSyncRecord(null, NOW, 'failed')).toEqual({at: NOW.toISOString(), outcome: 'failed'})
  })
})
