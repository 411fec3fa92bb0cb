import {describe, expect, test} from 'bun:test'
import {liveDevices, liveFleetRefusal, thresholdsOf} from '../../../src/conformance/wfm/live-fleet.ts'
import {isConformanceSubject} from '../../../src/conformance/common/identity.ts'
import {DEFAULT_LIVENESS_THRESHOLDS} from '../../../src/operator-contract/liveness.ts'
import type {Device} from '../../../src/operator-contract/views.ts'

const NOW = new Date('2025-03-01T12:00:00Z')
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString()

function device(clientId: string, extra: Partial<Device> & {fingerprint?: string, subject?: string} = {}): Device {
  const {fingerprint, subject, ...rest} = extra
  return {
    clientId, enrollment: 'active',
    certificate: {fingerprint: fingerprint ?? `sha256:${clientId}`, subject: subject ?? `CN=${clientId}`, keyType: 'ec', notAfter: '2030-01-01T00:00:00Z'},
    onboardedAt: minutesAgo(600), lastSeenAt: minutesAgo(1), capabilities: null, capabilitiesUpdatedAt: null, manifestVersion: 1, labels: {},
    ...rest,
  }
}

describe('refusing a live fleet', () => {
  const t = DEFAULT_LIVENESS_THRESHOLDS
  const none = new Set<string>()

  test('active devices seen within the offline threshold count; offline, pending and revoked ones do not', () => {
    const fleet = [
      device('online', {lastSeenAt: minutesAgo(2)}),
      device('stale', {lastSeenAt: minutesAgo(30)}),
      device('offline', {lastSeenAt: minutesAgo(61)}),
      device('never', {lastSeenAt: null}),
      device('pending', {enrollment: 'pending'}),
      device('revoked', {enrollment: 'revoked'}),
    ]
    expect(liveDevices(fleet, NOW, t, none).map(d => d.clientId)).toEqual(['online', 'stale'])
  })

  test('devices of conformance runs and of the run\'s own certificate are not the fleet\'s', () => {
    const fleet = [
      device('earlier-run', {subject: 'CN=margo-conformance-1740830000-0a1b2c, OU=Conformance, O=margo'}),
      device('given', {fingerprint: 'sha256:given'}),
      device('real', {subject: 'CN=margo-conformance-lookalike, O=plant'}),
    ]
    expect(liveDevices(fleet, NOW, t, new Set(['sha256:given'])).map(d => d.clientId)).toEqual(['real'])
  })

  test('the subject test matches how a WFM prints subjects, one part per line or comma separated', () => {
    expect(isConformanceSubject('CN=margo-conformance-1-abc\nOU=Conformance\nO=margo')).toBe(true)
    expect(isConformanceSubject('CN=margo-conformance-1-abc,OU=Conformance,O=margo')).toBe(true)
    expect(isConformanceSubject('CN=edge-7, OU=Conformance')).toBe(false)
  })

  test('one line with the count and the flag that proceeds; none when allowed or nothing is live', () => {
    const live = [device('a'), device('b')]
    const refusal = liveFleetRefusal(live, t, false)
    expect(refusal).toBe('the WFM has 2 live devices (enrolled active, seen in the last hour) that are not this run\'s, and the run would roll out a sample app to every device and change the deny-list — use a test WFM, or pass --allow-live-fleet to run anyway')
    expect(refusal).not.toContain('\n')
    expect(liveFleetRefusal([device('a')], t, false)).toStartWith('the WFM has 1 live device (')
    expect(liveFleetRefusal(live, t, true)).toBeNull()
    expect(liveFleetRefusal([], t, false)).toBeNull()
  })

  test('the WFM\'s own thresholds decide, defaults when it does not say', () => {
    expect(thresholdsOf({staleAfterSeconds: 60, offlineAfterSeconds: 300})).toEqual({staleAfterMs: 60_000, offlineAfterMs: 300_000})
    expect(thresholdsOf(undefined)).toEqual(t)
    expect(thresholdsOf({staleAfterSeconds: 300, offlineAfterSeconds: 60})).toEqual(t)
    const short = thresholdsOf({staleAfterSeconds: 60, offlineAfterSeconds: 300})
    expect(liveDevices([device('x', {lastSeenAt: minutesAgo(10)})], NOW, short, new Set())).toEqual([])
    expect(liveFleetRefusal([device('x')], short, false)).toContain('seen in the last 5 min')
  })
})
