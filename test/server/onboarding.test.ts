import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {X509Certificate, createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {certificateToBase64Der} from '../../src/pki/index.ts'
import {join} from 'node:path'
import {conformanceFixtures} from '../shared.ts'
import {createHarness, TestDevice, type Harness} from './harness.ts'

const FIXTURES = conformanceFixtures('test/server/onboarding.test.ts')
const fixture = (name: string) => readFileSync(join(FIXTURES ?? '', 'conformance/device-supplier/certs', name), 'utf8')

let h: Harness
beforeEach(async () => { h = await createHarness() })
afterEach(() => h.close())

describe('root CA and onboarding', () => {
  test('WFM-04: GET /onboarding/certificate is unauthenticated and returns the root CA as base64 DER', async () => {
    const res = await h.fetch('/api/v1/onboarding/certificate')
    expect(res.status).toBe(200)
    const {certificate} = (await res.json()) as {certificate: string}
    const cert = new X509Certificate(Buffer.from(certificate, 'base64'))
    expect(cert.ca).toBe(true)
    expect(cert.fingerprint256).toBe(new X509Certificate(h.device.caCertificatePem).fingerprint256)
  })

  test('WFM-05/06/07: a signed OnboardingRequest gets 201 with a URL-safe, unique clientId', async () => {
    const a = await TestDevice.create(h)
    const b = await TestDevice.create(h)
    const idA = await a.onboard()
    const idB = await b.onboard()
    expect(idA).toMatch(/^[0-9a-f-]{36}$/)
    expect(encodeURIComponent(idA)).toBe(idA)
    expect(idA).not.toBe(idB)
  })

  test('WFM-06: the certificate is accepted as base64 DER, base64 PEM and PEM', async () => {
    for (const encode of [(p: string) => certificateToBase64Der(p), (p: string) => Buffer.from(p).toString('base64'), (p: string) => p]) {
      const d = await TestDevice.create(h)
      const res = await d.send('POST', '/api/v1/onboarding', {body: d.onboardingBody(encode(d.certPem))})
      expect(res.status).toBe(201)
    }
  })

  test('onboarding the same certificate again is idempotent and returns the same clientId', async () => {
    const d = await TestDevice.create(h)
    const first = await d.onboard()
    expect(await d.onboard()).toBe(first)
  })

  test('WFM-06: a malformed certificate gets 400 with the error member "Invalid certificate"', async () => {
    const d = await TestDevice.create(h)
    const res = await d.send('POST', '/api/v1/onboarding', {unsigned: true, body: d.onboardingBody('INVALID_NOT_A_PEM_CERTIFICATE-1')})
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    const body = (await res.json()) as Record<string, unknown>
    expect(body.error).toBe('Invalid certificate')
    expect(body.type).toBe('https://docs.margo.org/specification/problems/invalid-certificate-format')
  })

  test('WFM-05: missing fields get 400 naming the field', async () => {
    const d = await TestDevice.create(h)
    for (const field of ['apiVersion', 'kind', 'certificate'] as const) {
      const body: Record<string, unknown> = d.onboardingBody()
      delete body[field]
      const res = await d.send('POST', '/api/v1/onboarding', {body})
      expect(res.status).toBe(400)
      expect(JSON.stringify(await res.json())).toContain(field)
    }
    const wrongKind = await d.send('POST', '/api/v1/onboarding', {body: {...d.onboardingBody(), kind: 'Onboarding'}})
    expect(wrongKind.status).toBe(400)
  })

  test('WFM-08: a signature on onboarding must be made with the submitted certificate\'s key', async () => {
    const d = await TestDevice.create(h)
    const other = await TestDevice.create(h)
    const res = await d.send('POST', '/api/v1/onboarding', {body: d.onboardingBody(), key: other.privateKey})
    expect(res.status).toBe(401)
    expect(h.store.listClients()).toHaveLength(0)
  })

  test('unsigned onboarding is accepted (the signature is optional there)', async () => {
    const d = await TestDevice.create(h)
    const res = await d.send('POST', '/api/v1/onboarding', {unsigned: true, body: d.onboardingBody()})
    expect(res.status).toBe(201)
  })

  test.skipIf(!FIXTURES)('WFM-09: a weak RSA-1024 certificate is refused with 403', async () => {
    const res = await h.fetch('/api/v1/onboarding', {
      method: 'POST', headers: {'content-type': 'application/json'},
      body: JSON.stringify({apiVersion: 'onboarding.margo.org/v1alpha1', kind: 'OnboardingRequest', certificate: Buffer.from(fixture('device-weakkey-cert.pem')).toString('base64')}),
    })
    expect(res.status).toBe(403)
    expect(((await res.json()) as {error: string}).error).toBe('Client rejected')
  })

  test('WFM-06: a certificate on the deny-list gets 403 "Client rejected", checked before parsing', async () => {
    h.store.addDenied('rnd-key-7f3a91b2c4d8e6', new Date().toISOString())
    const d = await TestDevice.create(h)
    const res = await d.send('POST', '/api/v1/onboarding', {unsigned: true, body: d.onboardingBody('rnd-key-7f3a91b2c4d8e6')})
    expect(res.status).toBe(403)
    expect(((await res.json()) as {error: string}).error).toBe('Client rejected')
    h.store.addDenied(d.fingerprint, new Date().toISOString())
    expect((await d.send('POST', '/api/v1/onboarding', {body: d.onboardingBody()})).status).toBe(403)
  })

  test('WFM-26: onboarding creates manifest 1 with bundle null and no deployments', async () => {
    const d = await TestDevice.create(h)
    await d.onboard()
    const res = await d.send('GET', '/api/v1/clients/{clientId}/deployments')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({manifestVersion: 1, bundle: null, deployments: []})
  })
})

describe('enrollment policies', () => {
  test('approve: a new client is pending (signed requests get 403) until an operator approves it', async () => {
    h.close()
    h = await createHarness({enrollment: 'approve'})
    const d = await TestDevice.create(h)
    const id = await d.onboard()
    const pending = await d.send('GET', '/api/v1/clients/{clientId}/deployments')
    expect(pending.status).toBe(403)
    expect(((await pending.json()) as {detail: string}).detail).toContain('pending')
    expect(await d.onboard()).toBe(id)
    expect((await h.operator('POST', `/devices/${id}/approve`)).status).toBe(200)
    expect((await d.send('GET', '/api/v1/clients/{clientId}/deployments')).status).toBe(200)
  })

  test('allowlist: only pre-registered certificates onboard', async () => {
    h.close()
    h = await createHarness({enrollment: 'allowlist'})
    const stranger = await TestDevice.create(h)
    const res = await stranger.send('POST', '/api/v1/onboarding', {body: stranger.onboardingBody()})
    expect(res.status).toBe(403)
    const known = await TestDevice.create(h)
    const pre = await h.operator('POST', '/devices/preregister', {certificate: known.certPem})
    expect(pre.status).toBe(201)
    expect(((await pre.json()) as {fingerprint: string}).fingerprint).toBe(known.fingerprint)
    await known.onboard()
    expect((await known.send('GET', '/api/v1/clients/{clientId}/deployments')).status).toBe(200)
  })

  test('WFM-15: a revoked client gets 403 on every signed request and cannot onboard again', async () => {
    const d = await TestDevice.create(h)
    const id = await d.onboard()
    await h.operator('POST', `/devices/${id}/revoke`)
    const res = await d.send('GET', '/api/v1/clients/{clientId}/deployments')
    expect(res.status).toBe(403)
    expect(((await res.json()) as {type: string}).type).toEndWith('/certificate-not-trusted')
    expect((await d.send('POST', '/api/v1/onboarding', {body: d.onboardingBody()})).status).toBe(403)
  })

  test('revoking a device that has just polled refuses its very next poll (the credential cache is no excuse)', async () => {
    const d = await TestDevice.create(h)
    const id = await d.onboard()
    expect((await d.send('GET', '/api/v1/clients/{clientId}/deployments')).status).toBe(200)
    expect((await d.send('GET', '/api/v1/clients/{clientId}/deployments')).status).toBe(200)
    await h.operator('POST', `/devices/${id}/revoke`)
    expect((await d.send('GET', '/api/v1/clients/{clientId}/deployments')).status).toBe(403)
  })

  test('a rolled-back enrollment change is not served from memory', async () => {
    const d = await TestDevice.create(h)
    const id = await d.onboard()
    expect(h.store.getCredential(id)?.enrollment).toBe('active')
    expect(() => h.store.transaction(() => {
      h.store.setEnrollment(id, 'revoked')
      expect(h.store.getCredential(id)?.enrollment).toBe('revoked')
      throw new Error('abort')
    })).toThrow('abort')
    expect(h.store.getCredential(id)?.enrollment).toBe('active')
    expect((await d.send('GET', '/api/v1/clients/{clientId}/deployments')).status).toBe(200)
  })

  test('fingerprints are SHA-256 of the certificate DER', async () => {
    const d = await TestDevice.create(h)
    const der = Buffer.from(certificateToBase64Der(d.certPem), 'base64')
    expect(d.fingerprint).toBe('sha256:' + createHash('sha256').update(der).digest('hex'))
  })
})

describe('onboarding error members', () => {
  test('a field error names the field in the error member (apiVersion)', async () => {
    const d = await TestDevice.create(h)
    const res = await d.send('POST', '/api/v1/onboarding', {body: {...d.onboardingBody(), apiVersion: 'v1'}})
    expect(res.status).toBe(400)
    const body = (await res.json()) as {error: string, errors: {field: string}[]}
    expect(body.error).toContain('apiVersion')
    expect(body.errors.map(e => e.field)).toEqual(['apiVersion'])
  })
})

describe('deny-list through the operator API', () => {
  test('a denied certificate cannot onboard, its existing client is revoked, and an entry can be removed', async () => {
    const d = await TestDevice.create(h)
    await d.onboard()
    const added = await h.operator('POST', '/denylist', {certificate: d.certPem})
    expect(added.status).toBe(201)
    expect(((await added.json()) as {revokedClientId: string}).revokedClientId).toBe(d.clientId)
    expect((await d.send('GET', '/api/v1/clients/{clientId}/deployments')).status).toBe(403)
    expect((await h.operator('POST', '/denylist', {value: 'rnd-key-7f3a91b2c4d8e6'})).status).toBe(201)
    const stranger = await TestDevice.create(h)
    expect((await stranger.send('POST', '/api/v1/onboarding', {unsigned: true, body: stranger.onboardingBody('rnd-key-7f3a91b2c4d8e6')})).status).toBe(403)
    const list = (await (await h.operator('GET', '/denylist')).json()) as {entries: {value: string}[]}
    expect(list.entries.map(e => e.value)).toEqual([d.fingerprint, 'rnd-key-7f3a91b2c4d8e6'])
    expect((await h.operator('DELETE', `/denylist/${encodeURIComponent('rnd-key-7f3a91b2c4d8e6')}`)).status).toBe(200)
    expect((await h.operator('POST', '/denylist', {})).status).toBe(400)
  })
})
