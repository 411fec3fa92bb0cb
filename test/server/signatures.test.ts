import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {createHarness, capabilitiesBody, statusBody, TestDevice, type Harness} from './harness.ts'
import type {KeyType, SignatureAlgorithm} from '../../src/signing/index.ts'

let h: Harness
let d: TestDevice
beforeEach(async () => {
  h = await createHarness()
  d = await TestDevice.create(h)
  await d.onboard()
})
afterEach(() => h.close())

const CAPS = '/api/v1/clients/{clientId}/capabilities'
const MANIFEST = '/api/v1/clients/{clientId}/deployments'
const problemType = async (res: Response) => ((await res.json()) as {type: string}).type.split('/').at(-1)

describe('RFC 9421 verification', () => {
  const profiles: [KeyType, SignatureAlgorithm | undefined][] = [
    ['p256', 'ecdsa-p256-sha256'], ['p384', 'ecdsa-p384-sha384'], ['rsa2048', 'rsa-v1_5-sha256'],
    ['rsa2048', 'rsa-pss-sha256'], ['rsa2048', 'rsa-pss-sha512'], ['ed25519', 'ed25519'], ['rsa2048', undefined],
  ]
  for (const [keyType, alg] of profiles) {
    test(`WFM-10: accepts ${alg ?? 'RSA without alg'} (${keyType}) on onboarding, capabilities and polling`, async () => {
      const dev = await TestDevice.create(h, keyType)
      const res = await dev.send('POST', '/api/v1/onboarding', {body: dev.onboardingBody(), alg})
      expect(res.status).toBe(201)
      dev.clientId = ((await res.json()) as {clientId: string}).clientId
      expect((await dev.send('POST', CAPS, {body: capabilitiesBody(), alg})).status).toBe(201)
      expect((await dev.send('GET', MANIFEST, {alg})).status).toBe(200)
    })
  }

  test('WFM-13: an unsigned request gets 401', async () => {
    const res = await d.send('GET', MANIFEST, {unsigned: true})
    expect(res.status).toBe(401)
    expect(await problemType(res)).toBe('signature-verification-failed')
  })

  test('WFM-13: a flipped signature byte gets 401', async () => {
    const res = await d.send('POST', CAPS, {body: capabilitiesBody(), tamper: r => {
      const sig = r.headers.signature!
      const i = sig.indexOf(':') + 10
      r.headers.signature = sig.slice(0, i) + (sig[i] === 'A' ? 'B' : 'A') + sig.slice(i + 1)
    }})
    expect(res.status).toBe(401)
  })

  test('WFM-12/14: a tampered body (digest no longer matches) gets 400', async () => {
    const res = await d.send('POST', CAPS, {body: capabilitiesBody(), tamper: r => { r.body = r.body.replace('Northstar', 'Southstar') }})
    expect(res.status).toBe(400)
    expect(await problemType(res)).toBe('invalid-digest-header')
  })

  test('WFM-12/13: a tampered body with a recomputed digest breaks the signature: 401', async () => {
    const {contentDigest} = await import('../../src/signing/index.ts')
    const res = await d.send('POST', CAPS, {body: capabilitiesBody(), tamper: r => {
      r.body = r.body.replace('Northstar', 'Southstar')
      r.headers['content-digest'] = contentDigest(r.body)
    }})
    expect(res.status).toBe(401)
  })

  test('WFM-14: a body without Content-Digest gets 400 naming content-digest', async () => {
    const res = await d.send('POST', CAPS, {body: capabilitiesBody(), omitDigest: true})
    expect(res.status).toBe(400)
    expect(JSON.stringify(await res.json())).toContain('content-digest')
  })

  test('WFM-14: a wrong Content-Digest gets 400', async () => {
    const res = await d.send('POST', CAPS, {body: capabilitiesBody(), tamper: r => { r.headers['content-digest'] = 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:' }})
    expect(res.status).toBe(400)
  })

  test('WFM-16: a stale created (older than the window) gets 401', async () => {
    const res = await d.send('GET', MANIFEST, {created: Math.floor(Date.now() / 1000) - 301})
    expect(res.status).toBe(401)
  })

  test('WFM-16: created in the future beyond the skew gets 401; within the skew passes', async () => {
    expect((await d.send('GET', MANIFEST, {created: Math.floor(Date.now() / 1000) + 120})).status).toBe(401)
    expect((await d.send('GET', MANIFEST, {created: Math.floor(Date.now() / 1000) + 30})).status).toBe(200)
  })

  test('WFM-11/51: the key comes from the clientId in the path; another client\'s key is refused', async () => {
    const other = await TestDevice.create(h)
    await other.onboard()
    // `other` signs a request for d's resources with its own (valid, onboarded) key.
    const res = await other.send('GET', MANIFEST.replace('{clientId}', d.clientId))
    expect(res.status).toBe(401)
    const put = await other.send('PUT', CAPS.replace('{clientId}', d.clientId), {body: capabilitiesBody()})
    expect(put.status).toBe(401)
  })

  test('WFM-15: a never-onboarded key on a real clientId path is refused', async () => {
    const stranger = await TestDevice.create(h)
    const res = await stranger.send('POST', CAPS.replace('{clientId}', d.clientId), {body: capabilitiesBody()})
    expect([401, 403]).toContain(res.status)
  })

  test('the signing label and keyid do not matter: label sig with @authority, keyid "device-key"', async () => {
    const {signRequest} = await import('../../src/signing/index.ts')
    const url = `${h.base}/api/v1/clients/${d.clientId}/capabilities`
    const body = JSON.stringify(capabilitiesBody())
    const headers = await signRequest({method: 'PUT', url, body}, {privateKey: d.privateKey, keyId: 'device-key', label: 'sig', includeAlg: false,
      components: ['@method', '@target-uri', '@authority', 'content-digest']})
    const res = await h.app.handle(new Request(url, {method: 'PUT', headers: {...headers, 'content-type': 'application/json'}, body}))
    expect(res.status).toBe(201)
  })
})

describe('check order (unknown client → signature → digest → signature → trust → body → deployment)', () => {
  test('WFM-51/A23: an unknown clientId gets 404 before any signature check', async () => {
    const res = await d.send('GET', '/api/v1/clients/00000000-0000-4000-8000-000000000000/deployments', {unsigned: true})
    expect(res.status).toBe(404)
    expect(await problemType(res)).toBe('invalid-client')
  })

  test('missing signature (401) wins over a missing digest (400)', async () => {
    const res = await d.send('POST', CAPS, {body: capabilitiesBody(), unsigned: true})
    expect(res.status).toBe(401)
  })

  test('a revoked client with a bad signature gets 401, with a good one 403', async () => {
    await h.operator('POST', `/devices/${d.clientId}/revoke`)
    const bad = await d.send('GET', MANIFEST, {tamper: r => { r.headers.signature = r.headers.signature!.replace(/:(.)/, (_, c: string) => ':' + (c === 'A' ? 'B' : 'A')) }})
    expect(bad.status).toBe(401)
    expect((await d.send('GET', MANIFEST)).status).toBe(403)
  })

  test('body validation (422) runs before the unknown-deployment 404', async () => {
    const unknown = '11111111-1111-4111-8111-111111111111'
    const bad = {...statusBody(unknown), status: {state: '__invalid_state__'}}
    const res = await d.send('POST', `/api/v1/clients/{clientId}/deployments/${unknown}/status`, {body: bad})
    expect(res.status).toBe(422)
    const ok = await d.send('POST', `/api/v1/clients/{clientId}/deployments/${unknown}/status`, {body: statusBody(unknown)})
    expect(ok.status).toBe(404)
    expect(await problemType(ok)).toBe('deployment-not-found')
  })

  test('bodies over the configured limit get 413, not 500', async () => {
    h.close()
    h = await createHarness({maxBodyBytes: 2048})
    d = await TestDevice.create(h)
    await d.onboard()
    const big = {...capabilitiesBody(), padding: 'x'.repeat(4096)}
    const res = await d.send('POST', CAPS, {body: big})
    expect(res.status).toBe(413)
  })
})
