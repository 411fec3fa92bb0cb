import {describe, expect, test} from 'bun:test'
import {cleanupSummary} from '../../../src/conformance/wfm/cleanup.ts'
import {leftBehind, newRunId, ownDevices, RunLedger, undoPlan} from '../../../src/conformance/wfm/ledger.ts'
import {labelValueProblem} from '../../../src/operator-contract/labels.ts'
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

function ledgerWith(fingerprints: string[], before: Device[]): RunLedger {
  const ledger = new RunLedger('20250301t120000-abcdef')
  for (const fp of fingerprints) ledger.fingerprints.add(fp)
  ledger.seenBefore(before)
  return ledger
}

describe('cleanup bookkeeping', () => {
  test('the run\'s devices are those with its certificates that were not on the WFM before it', () => {
    const fleet = device('fleet-1')
    // The run was given this device's own certificate (--cert): the device was there first, so it is not the run's.
    const given = device('given-1', {fingerprint: 'sha256:given'})
    const ledger = ledgerWith(['sha256:mine-a', 'sha256:mine-b', 'sha256:given'], [fleet, given])
    const now = [fleet, given, device('new-a', {fingerprint: 'sha256:mine-a'}), device('new-b', {fingerprint: 'sha256:mine-b'}), device('stranger', {fingerprint: 'sha256:other'})]
    expect(ownDevices(ledger, now).map(d => d.clientId)).toEqual(['new-a', 'new-b'])
  })

  test('without the list from before the run, no device is taken for the run\'s', () => {
    const ledger = new RunLedger()
    ledger.fingerprints.add('sha256:mine')
    expect(ownDevices(ledger, [device('x', {fingerprint: 'sha256:mine'})])).toEqual([])
  })

  test('the undo removes rollouts (newest first), then deny-list entries, then revokes the devices; revoked ones are only labelled', () => {
    const ledger = ledgerWith(['sha256:a', 'sha256:b'], [])
    ledger.rollout('r-1')
    ledger.rollout('r-2')
    ledger.deny('bad-cert')
    const plan = undoPlan(ledger, [device('a', {fingerprint: 'sha256:a'}), device('b', {fingerprint: 'sha256:b', enrollment: 'revoked'})])
    expect(plan).toEqual([
      {kind: 'rollout', id: 'r-2'}, {kind: 'rollout', id: 'r-1'},
      {kind: 'deny-list', id: 'bad-cert'},
      {kind: 'device', id: 'a', revoke: true}, {kind: 'device', id: 'b', revoke: false},
    ])
  })

  test('an app the run published new and its pre-registrations are reported as left, with why', () => {
    const ledger = new RunLedger()
    ledger.app({appId: 'sample', version: '1.0.0'})
    ledger.preregistration('sha256:p')
    expect(leftBehind(ledger).map(i => [i.kind, i.id, i.outcome])).toEqual([['app', 'sample@1.0.0', 'left'], ['preregistration', 'sha256:p', 'left']])
    expect(leftBehind(ledger)[0]!.detail).toContain('cannot unpublish')
  })

  test('the run id is a valid label value', () => {
    const id = newRunId(NOW)
    expect(id).toMatch(/^20250301t120000-[0-9a-f]{6}$/)
    expect(labelValueProblem(id)).toBeNull()
  })

  test('the summary says what was undone and what was not', () => {
    expect(cleanupSummary({runId: 'r', ok: true, items: []})).toBe('the run created nothing to undo')
    expect(cleanupSummary({runId: 'r', ok: false, items: [
      {kind: 'rollout', id: 'x', outcome: 'removed'}, {kind: 'deny-list', id: 'v', outcome: 'removed'},
      {kind: 'device', id: 'a', outcome: 'revoked'}, {kind: 'device', id: 'b', outcome: 'revoked'},
      {kind: 'deny-list', id: 'w', outcome: 'failed', detail: 'timeout'},
    ]})).toBe('the run\'s set-up is only partly undone: removed 1 rollout, 1 deny-list entry; revoked 2 devices (labelled margo-conformance-run=r); could NOT undo 1 deny-list entry')
  })
})
