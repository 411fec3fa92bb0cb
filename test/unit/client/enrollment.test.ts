import {describe, expect, test} from 'bun:test'
import {devicesToApprove, joinTokenBody, pendingFirst} from '../../../src/client/enrollment.ts'
import {renderApprovals, renderCreatedJoinToken, renderJoinTokenList} from '../../../src/cli/render/enrollment.ts'
import type {Device} from '../../../src/operator-contract/views.ts'
import {UsageError} from '../../../src/util/errors.ts'

const device = (clientId: string, enrollment: Device['enrollment'], labels: Record<string, string> = {}): Device => ({
  clientId, enrollment, labels, onboardedAt: '2026-01-01T00:00:00.000Z', lastSeenAt: null, capabilities: null, capabilitiesUpdatedAt: null, manifestVersion: 1,
  certificate: {fingerprint: `sha256:${clientId.padEnd(64, '0')}`, subject: 'CN=d', keyType: 'ec-p256', notAfter: '2030-01-01T00:00:00.000Z'},
} as Device)

const fleet = [device('a1', 'active', {site: 'x'}), device('p1', 'pending', {site: 'x'}), device('p2', 'pending', {site: 'y'}), device('r1', 'revoked')]
const tty = {tty: true, color: false, now: new Date('2026-01-02T00:00:00Z')} as never
const pipe = {tty: false, color: false, now: new Date('2026-01-02T00:00:00Z')} as never

describe('approving devices', () => {
  test('the ids given, each once; or every pending device, narrowed by a selector', () => {
    expect(devicesToApprove(fleet, {clientIds: ['p1', 'p2', 'p1']})).toEqual(['p1', 'p2'])
    expect(devicesToApprove(fleet, {clientIds: [], allPending: true})).toEqual(['p1', 'p2'])
    expect(devicesToApprove(fleet, {clientIds: [], allPending: true, selector: 'site=x'})).toEqual(['p1'])
    expect(devicesToApprove(fleet, {clientIds: [], allPending: true, selector: 'site=z'})).toEqual([])
  })

  test('ambiguous or empty requests are usage errors that say what to give', () => {
    expect(() => devicesToApprove(fleet, {clientIds: []})).toThrow(UsageError)
    expect(() => devicesToApprove(fleet, {clientIds: ['p1'], allPending: true})).toThrow('not both')
    expect(() => devicesToApprove(fleet, {clientIds: ['p1'], selector: 'site=x'})).toThrow('--all-pending')
    expect(() => devicesToApprove(fleet, {clientIds: [], allPending: true, selector: 'site in (a'})).toThrow('--selector')
  })

  test('pending devices are listed first, the rest keep their order', () => {
    expect(pendingFirst(fleet).map(d => d.clientId)).toEqual(['p1', 'p2', 'a1', 'r1'])
  })

  test('each approved device is shown with its certificate fingerprint; piped, one id and state per line', () => {
    const approved = [{...fleet[1]!, enrollment: 'active' as const}]
    const out = renderApprovals(approved, tty)
    expect(out).toContain(`approved p1  certificate ${approved[0]!.certificate.fingerprint}`)
    expect(out).toContain('margo agent status')
    expect(renderApprovals(approved, pipe)).toBe('p1\tactive')
    expect(renderApprovals([], tty)).toBe('no pending device to approve')
  })
})

describe('join tokens on the command line', () => {
  test('--labels become the label map; removals and malformed labels are refused', () => {
    expect(joinTokenBody({labels: ['site=plant-7', 'line=2'], uses: 3, expires: '1h'})).toEqual({labels: {site: 'plant-7', line: '2'}, uses: 3, expires: '1h'})
    expect(joinTokenBody({})).toEqual({})
    expect(() => joinTokenBody({labels: ['site-']})).toThrow('removes nothing')
    expect(() => joinTokenBody({labels: ['=x']})).toThrow('--labels')
  })

  const info = {id: 'jt-1', labels: {site: 'a'}, scope: null, maxUses: 2, uses: 2, createdAt: '2026-01-01T00:00:00.000Z', createdBy: 'bootstrap', expiresAt: '2026-01-03T00:00:00.000Z', revokedAt: null, lastUsedAt: null}

  test('the list shows uses and state, never a secret; the created token is printed once, alone when piped', () => {
    expect(renderJoinTokenList([info], tty)).toContain('used up')
    expect(renderJoinTokenList([{...info, uses: 0, expiresAt: '2026-01-01T12:00:00.000Z'}], tty)).toContain('expired')
    const created = {...info, uses: 0, token: 'margo-join_secret'}
    expect(renderCreatedJoinToken(created, pipe)).toBe('margo-join_secret')
    expect(renderCreatedJoinToken(created, tty)).toContain('MARGO_JOIN_TOKEN=')
  })
})
