import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {DEFAULT_DEVICE_API_CONFIG} from '../../src/server/device-api/context.ts'
import type {AuditEntry, CreatedJoinToken, JoinResult, JoinTokenInfo} from '../../src/operator-contract/views.ts'
import {ORIGIN, TestDevice, createHarness, type Harness} from './harness.ts'

let h: Harness
beforeEach(async () => { h = await createHarness({enrollment: 'approve'}) })
afterEach(() => h.close())

const errorOf = async (res: Response) => ((await res.json()) as {error: {code: string, message: string}}).error

async function createJoinToken(body: Record<string, unknown> = {}): Promise<CreatedJoinToken> {
  const res = await h.operator('POST', '/join-tokens', body)
  expect(res.status).toBe(201)
  return (await res.json()) as CreatedJoinToken
}

/** `POST /operator/v1/join` as a device presents it: no operator token. */
const join_ = (token: string, fingerprint: string) =>
  h.app.handle(new Request(`${ORIGIN}/operator/v1/join`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({token, fingerprint})}))

async function deviceOf(clientId: string) {
  return (await (await h.operator('GET', `/devices/${clientId}`)).json()) as {enrollment: string, labels: Record<string, string>}
}

const auditLog = async () => ((await (await h.operator('GET', '/audit')).json()) as {entries: AuditEntry[]}).entries

test('a server without an enrollment setting waits for approval', () => {
  expect(DEFAULT_DEVICE_API_CONFIG.enrollment).toBe('approve')
})

describe('join tokens', () => {
  test('preauthorise one fingerprint: its onboarding is active at once, with the token\'s labels; the token is stored only as a hash', async () => {
    const created = await createJoinToken({labels: {site: 'plant-9', line: '2'}})
    expect(created).toMatchObject({labels: {line: '2', site: 'plant-9'}, maxUses: 1, uses: 0, createdBy: 'bootstrap'})
    // 24 hours unless told otherwise.
    expect(Date.parse(created.expiresAt) - Date.now()).toBeGreaterThan(23 * 3_600_000)
    const d = await TestDevice.create(h)
    const res = await join_(created.token, d.fingerprint)
    expect(res.status).toBe(200)
    expect((await res.json()) as JoinResult).toMatchObject({fingerprint: d.fingerprint, joinTokenId: created.id, approvedClientId: null, repeated: false})
    const id = await d.onboard()
    expect(await deviceOf(id)).toMatchObject({enrollment: 'active', labels: {site: 'plant-9', line: '2'}})
    expect((await d.send('GET', '/api/v1/clients/{clientId}/deployments')).status).toBe(200)

    const listed = ((await (await h.operator('GET', '/join-tokens')).json()) as {joinTokens: JoinTokenInfo[]}).joinTokens
    expect(listed).toEqual([expect.objectContaining({id: created.id, uses: 1, maxUses: 1})])
    expect(JSON.stringify(listed)).not.toContain(created.token)
    const db = h.database.open()
    expect(JSON.stringify(db.db.query('SELECT * FROM join_tokens').all())).not.toContain(created.token)
    db.close()
    expect(h.database.atRest().includes(Buffer.from(created.token))).toBe(false)

    const log = await auditLog()
    expect(log.find(e => e.action === 'join_token.created')).toMatchObject({actor: 'bootstrap', target: `join_token:${created.id}`})
    expect(log.find(e => e.action === 'join_token.used')).toMatchObject({actor: `join-token:${created.id}`, target: `certificate:${d.fingerprint}`})
    expect(log.find(e => e.action === 'device.onboarded')?.summary).toMatchObject({enrollment: 'active', admittedBy: `join-token:${created.id}`})
    expect(JSON.stringify(log)).not.toContain(created.token)
  })

  test('uses are counted per fingerprint: presenting again for the same one is free, a second one beyond the uses is refused and stays pending', async () => {
    const created = await createJoinToken({labels: {site: 'a'}})
    const first = await TestDevice.create(h)
    expect((await join_(created.token, first.fingerprint)).status).toBe(200)
    const again = await join_(created.token, first.fingerprint)
    expect(((await again.json()) as JoinResult).repeated).toBe(true)
    const second = await TestDevice.create(h)
    const refused = await join_(created.token, second.fingerprint)
    expect(refused.status).toBe(403)
    const error = await errorOf(refused)
    expect(error.code).toBe('join_token_used_up')
    expect(error.message).toContain(`join token ${created.id} has admitted 1 of 1 device`)
    const id = await second.onboard()
    expect((await deviceOf(id)).enrollment).toBe('pending')
    expect((await second.send('GET', '/api/v1/clients/{clientId}/deployments')).status).toBe(403)
    const listed = ((await (await h.operator('GET', '/join-tokens')).json()) as {joinTokens: JoinTokenInfo[]}).joinTokens
    expect(listed[0]!.uses).toBe(1)
    expect((await auditLog()).find(e => e.action === 'join_token.refused')).toMatchObject({actor: `join-token:${created.id}`, summary: {reason: 'join_token_used_up'}})
  })

  test('a token for several devices admits that many distinct certificates', async () => {
    const created = await createJoinToken({uses: 2})
    for (const _ of [1, 2]) expect((await join_(created.token, (await TestDevice.create(h)).fingerprint)).status).toBe(200)
    expect((await errorOf(await join_(created.token, (await TestDevice.create(h)).fingerprint))).code).toBe('join_token_used_up')
  })

  test('expired, revoked and unknown tokens are refused with a reason, and admit nothing', async () => {
    const d = await TestDevice.create(h)
    const expiring = await createJoinToken({expires: '30s'})
    h.setClock(new Date(Date.now() + 60_000))
    const expired = await join_(expiring.token, d.fingerprint)
    expect(expired.status).toBe(401)
    expect((await errorOf(expired)).message).toContain(`join token ${expiring.id} expired at`)
    h.setClock(null)

    const revoking = await createJoinToken()
    const revoke = await h.operator('POST', `/join-tokens/${revoking.id}/revoke`)
    expect(((await revoke.json()) as JoinTokenInfo).revokedAt).not.toBeNull()
    const revoked = await join_(revoking.token, d.fingerprint)
    expect(revoked.status).toBe(401)
    expect((await errorOf(revoked)).code).toBe('join_token_revoked')

    const unknown = await join_('margo-join_not-a-token', d.fingerprint)
    expect(unknown.status).toBe(401)
    expect((await errorOf(unknown)).code).toBe('join_token_unknown')

    const bad = await join_(revoking.token, 'sha256:abc')
    expect(bad.status).toBe(400)

    const id = await d.onboard()
    expect((await deviceOf(id)).enrollment).toBe('pending')
    expect((await auditLog()).filter(e => e.action === 'join_token.refused').map(e => e.summary.reason)).toEqual(['join_token_expired', 'join_token_revoked'])
  })

  test('a device already waiting in pending is approved by a join token and gets its labels', async () => {
    const d = await TestDevice.create(h)
    const id = await d.onboard()
    expect((await deviceOf(id)).enrollment).toBe('pending')
    const created = await createJoinToken({labels: {site: 'b'}})
    const res = await join_(created.token, d.fingerprint)
    expect(((await res.json()) as JoinResult).approvedClientId).toBe(id)
    expect(await deviceOf(id)).toMatchObject({enrollment: 'active', labels: {site: 'b'}})
    expect((await d.send('GET', '/api/v1/clients/{clientId}/deployments')).status).toBe(200)
  })

  test('a revoked device cannot be readmitted with a join token', async () => {
    const d = await TestDevice.create(h)
    const id = await d.onboard()
    await h.operator('POST', `/devices/${id}/revoke`)
    const res = await join_((await createJoinToken()).token, d.fingerprint)
    expect(res.status).toBe(403)
    expect((await errorOf(res)).code).toBe('device_revoked')
  })

  test('labels must match the token\'s scope; a scoped admin admits devices only into its own scope', async () => {
    const outside = await h.operator('POST', '/join-tokens', {labels: {site: 'a'}, scope: 'site=b'})
    expect(outside.status).toBe(422)
    expect((await errorOf(outside)).code).toBe('labels_outside_scope')
    const scoped = ((await (await h.operator('POST', '/tokens', {name: 'site-admin', role: 'admin', scope: 'site=a'})).json()) as {token: string}).token
    const asScoped = (body: unknown) => h.app.handle(new Request(`${ORIGIN}/operator/v1/join-tokens`, {method: 'POST', headers: {authorization: `Bearer ${scoped}`, 'content-type': 'application/json'}, body: JSON.stringify(body)}))
    expect((await asScoped({labels: {site: 'b'}})).status).toBe(422)
    const inside = await asScoped({labels: {site: 'a', line: '1'}})
    expect(inside.status).toBe(201)
    expect(((await inside.json()) as JoinTokenInfo).scope).toBe('site=a')
  })

  test('viewers and operators may not create or list join tokens', async () => {
    for (const role of ['viewer', 'operator']) {
      const token = ((await (await h.operator('POST', '/tokens', {name: `t-${role}`, role})).json()) as {token: string}).token
      const res = await h.app.handle(new Request(`${ORIGIN}/operator/v1/join-tokens`, {method: 'POST', headers: {authorization: `Bearer ${token}`, 'content-type': 'application/json'}, body: '{}'}))
      expect(res.status).toBe(403)
      expect((await errorOf(res)).message).toContain('devices.enroll')
    }
  })
})
