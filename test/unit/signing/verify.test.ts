import {describe, expect, test} from 'bun:test'
import {constants, sign} from 'node:crypto'
import {
  contentDigest,
  generateKeyPair,
  signRequest,
  spkiSha256Hex,
  verifyRequest,
  type KeyType,
  type SignatureAlgorithm,
  type VerifyFailureReason,
  type VerifyResult,
} from '../../../src/signing/index.ts'

const NOW = 1767225600
const TARGET = 'https://wfm.example.com/api/v1/clients/3f0c2a9e/capabilities'
const BODY = new TextEncoder().encode('{"apiVersion":"device.margo.org/v1alpha1","kind":"DeviceCapabilitiesManifest"}')
const EMPTY = new Uint8Array(0)

const keys = {
  p256: generateKeyPair('p256'),
  p384: generateKeyPair('p384'),
  rsa2048: generateKeyPair('rsa2048'),
  ed25519: generateKeyPair('ed25519'),
}

interface Signed {
  method: string
  url: string
  headers: Record<string, string>
  body: Uint8Array
}

async function signed(keyType: KeyType, opts: {alg?: SignatureAlgorithm, method?: string, body?: Uint8Array, created?: number} = {}): Promise<Signed> {
  const method = opts.method ?? 'POST'
  const body = opts.body ?? BODY
  const headers = await signRequest({method, url: TARGET, body},
    {privateKey: keys[keyType].privateKey, keyId: 'client-1', alg: opts.alg, created: opts.created ?? NOW})
  return {method, url: TARGET, headers, body}
}

function expectFailure(result: VerifyResult, reason: VerifyFailureReason) {
  expect(result.ok).toBe(false)
  if (!result.ok) expect(result.reason).toBe(reason)
}

function flipLastSignatureByte(signature: string): string {
  const [, label, b64] = /^([^=]+)=:(.*):$/.exec(signature) as RegExpExecArray
  const bytes = Buffer.from(b64 as string, 'base64')
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01
  return `${label}=:${bytes.toString('base64')}:`
}

describe('verifyRequest: algorithms', () => {
  const cases: Array<[SignatureAlgorithm, KeyType]> = [
    ['ecdsa-p256-sha256', 'p256'],
    ['ecdsa-p384-sha384', 'p384'],
    ['rsa-v1_5-sha256', 'rsa2048'],
    ['rsa-pss-sha256', 'rsa2048'],
    ['rsa-pss-sha512', 'rsa2048'],
    ['ed25519', 'ed25519'],
  ]
  for (const [alg, keyType] of cases) {
    test(`WFM-10: verifies ${alg} (sign -> verify round trip)`, async () => {
      const req = await signed(keyType, {alg})
      const result = await verifyRequest(req, {publicKey: keys[keyType].publicKey, now: NOW})
      expect(result).toEqual({ok: true, label: 'sig1', alg, keyid: 'client-1', created: NOW, covered: ['@method', '@target-uri', 'content-digest']})
    })

    test(`WFM-10: ${alg} without an alg parameter is found from the key`, async () => {
      const headers = await signRequest({method: 'POST', url: TARGET, body: BODY},
        {privateKey: keys[keyType].privateKey, keyId: 'k', alg, created: NOW, includeAlg: false})
      const result = await verifyRequest({method: 'POST', url: TARGET, headers, body: BODY}, {publicKey: keys[keyType].publicKey, now: NOW})
      expect(result).toMatchObject({ok: true, alg})
    })

    test(`WFM-13: ${alg} with a flipped signature byte is a bad signature`, async () => {
      const req = await signed(keyType, {alg})
      req.headers['signature'] = flipLastSignatureByte(req.headers['signature'] as string)
      expectFailure(await verifyRequest(req, {publicKey: keys[keyType].publicKey, now: NOW}), 'bad-signature')
    })
  }

  test('WFM-13: a signature made by another key of the same type is rejected', async () => {
    const req = await signed('p256')
    expectFailure(await verifyRequest(req, {publicKey: generateKeyPair('p256').publicKey, now: NOW}), 'bad-signature')
  })

  test('an alg that does not match the client key is unsupported', async () => {
    const req = await signed('p256')
    expectFailure(await verifyRequest(req, {publicKey: keys.p384.publicKey, now: NOW}), 'unsupported-algorithm')
  })

  test('an alg outside the supported set is unsupported', async () => {
    const req = await signed('p256')
    req.headers['signature-input'] = (req.headers['signature-input'] as string).replace('ecdsa-p256-sha256', 'hmac-sha256')
    expectFailure(await verifyRequest(req, {publicKey: keys.p256.publicKey, now: NOW}), 'unsupported-algorithm')
  })
})

describe('verifyRequest: what the signature binds', () => {
  test('WFM-12: a tampered body no longer matches the signed content-digest', async () => {
    const req = await signed('p256')
    const tampered = new TextEncoder().encode('{"apiVersion":"device.margo.org/v1alpha1","kind":"Evil"}')
    expectFailure(await verifyRequest({...req, body: tampered}, {publicKey: keys.p256.publicKey, now: NOW}), 'bad-signature')
  })

  test('WFM-12: a replaced content-digest header breaks the signature', async () => {
    const req = await signed('p256')
    const tampered = new TextEncoder().encode('{"other":true}')
    req.headers['content-digest'] = contentDigest(tampered)
    expectFailure(await verifyRequest({...req, body: tampered}, {publicKey: keys.p256.publicKey, now: NOW}), 'bad-signature')
  })

  test('WFM-12: a changed method is rejected', async () => {
    const req = await signed('p256')
    expectFailure(await verifyRequest({...req, method: 'PUT'}, {publicKey: keys.p256.publicKey, now: NOW}), 'bad-signature')
  })

  test('WFM-12: a changed target URI is rejected', async () => {
    const req = await signed('p256')
    const other = TARGET.replace('3f0c2a9e', '3f0c2a9f')
    expectFailure(await verifyRequest({...req, url: other}, {publicKey: keys.p256.publicKey, now: NOW}), 'bad-signature')
    const withQuery = `${TARGET}?x=1`
    expectFailure(await verifyRequest({...req, url: withQuery}, {publicKey: keys.p256.publicKey, now: NOW}), 'bad-signature')
  })

  test('WFM-12: a GET without body verifies and reports its coverage', async () => {
    const req = await signed('p256', {method: 'GET', body: EMPTY})
    const result = await verifyRequest(req, {publicKey: keys.p256.publicKey, now: NOW})
    expect(result).toMatchObject({ok: true, covered: ['@method', '@target-uri']})
  })

  test('WFM-14: a body without covered content-digest is digest-not-covered', async () => {
    const req = await signed('p256', {method: 'POST', body: EMPTY})
    expectFailure(await verifyRequest({...req, body: BODY}, {publicKey: keys.p256.publicKey, now: NOW}), 'digest-not-covered')
  })

  test('a signature that omits @target-uri is target-not-covered', async () => {
    const headers = await signRequest({method: 'GET', url: TARGET},
      {privateKey: keys.p256.privateKey, keyId: 'k', created: NOW, components: ['@method', '@authority', '@path']})
    expectFailure(await verifyRequest({method: 'GET', url: TARGET, headers, body: EMPTY}, {publicKey: keys.p256.publicKey, now: NOW}), 'target-not-covered')
  })

  test('a signature that omits @method is target-not-covered', async () => {
    const headers = await signRequest({method: 'GET', url: TARGET},
      {privateKey: keys.p256.privateKey, keyId: 'k', created: NOW, components: ['@target-uri']})
    expectFailure(await verifyRequest({method: 'GET', url: TARGET, headers, body: EMPTY}, {publicKey: keys.p256.publicKey, now: NOW}), 'target-not-covered')
  })
})

describe('verifyRequest: time window', () => {
  test('WFM-16: created within the window is accepted', async () => {
    const req = await signed('p256', {created: NOW - 299})
    expect((await verifyRequest(req, {publicKey: keys.p256.publicKey, now: NOW})).ok).toBe(true)
  })

  test('WFM-16: created older than maxAge is expired', async () => {
    const req = await signed('p256', {created: NOW - 301})
    expectFailure(await verifyRequest(req, {publicKey: keys.p256.publicKey, now: NOW}), 'expired')
    expect((await verifyRequest(req, {publicKey: keys.p256.publicKey, now: NOW, maxAgeSeconds: 600})).ok).toBe(true)
  })

  test('WFM-16: created further in the future than the skew is rejected', async () => {
    const req = await signed('p256', {created: NOW + 61})
    expectFailure(await verifyRequest(req, {publicKey: keys.p256.publicKey, now: NOW}), 'future')
    expect((await verifyRequest(req, {publicKey: keys.p256.publicKey, now: NOW, skewSeconds: 120})).ok).toBe(true)
    expect((await verifyRequest(await signed('p256', {created: NOW + 60}), {publicKey: keys.p256.publicKey, now: NOW})).ok).toBe(true)
  })

  test('WFM-16: the wall clock is used when no time is given', async () => {
    const req = await signed('p256', {created: Math.floor(Date.now() / 1000)})
    expect((await verifyRequest(req, {publicKey: keys.p256.publicKey})).ok).toBe(true)
    const old = await signed('p256', {created: Math.floor(Date.now() / 1000) - 3600})
    expectFailure(await verifyRequest(old, {publicKey: keys.p256.publicKey}), 'expired')
  })

  test('an expires in the past (beyond the skew) is expired', async () => {
    const headers = await signRequest({method: 'GET', url: TARGET},
      {privateKey: keys.p256.privateKey, keyId: 'k', created: NOW - 100, expires: NOW - 90})
    expectFailure(await verifyRequest({method: 'GET', url: TARGET, headers, body: EMPTY}, {publicKey: keys.p256.publicKey, now: NOW}), 'expired')
    const fresh = await signRequest({method: 'GET', url: TARGET},
      {privateKey: keys.p256.privateKey, keyId: 'k', created: NOW - 100, expires: NOW + 10})
    expect((await verifyRequest({method: 'GET', url: TARGET, headers: fresh, body: EMPTY}, {publicKey: keys.p256.publicKey, now: NOW})).ok).toBe(true)
  })

  test('created is required', async () => {
    const req = await signed('p256')
    req.headers['signature-input'] = (req.headers['signature-input'] as string).replace(`;created=${NOW}`, '')
    expectFailure(await verifyRequest(req, {publicKey: keys.p256.publicKey, now: NOW}), 'malformed')
  })
})

describe('verifyRequest: missing and malformed headers', () => {
  test('no signature headers at all is missing', async () => {
    expectFailure(await verifyRequest({method: 'GET', url: TARGET, headers: {}, body: EMPTY}, {publicKey: keys.p256.publicKey, now: NOW}), 'missing')
  })

  test('Signature without Signature-Input (and the reverse) is missing', async () => {
    const req = await signed('p256')
    const {['signature-input']: _input, ...noInput} = req.headers
    expectFailure(await verifyRequest({...req, headers: noInput}, {publicKey: keys.p256.publicKey, now: NOW}), 'missing')
    const {['signature']: _sig, ...noSig} = req.headers
    expectFailure(await verifyRequest({...req, headers: noSig}, {publicKey: keys.p256.publicKey, now: NOW}), 'missing')
  })

  const malformed: Array<[string, Partial<Record<'signature' | 'signature-input', string>>]> = [
    ['Signature-Input that is not a dictionary', {'signature-input': '("@method" "@target-uri"'}],
    ['Signature that is not a dictionary', {'signature': 'sig1=:not base64:'}],
    ['a label with no matching Signature entry', {'signature': 'other=:AAAA:'}],
    ['Signature-Input member that is an item, not an inner list', {'signature-input': 'sig1="@method";created=1'}],
    ['Signature member that is not a byte sequence', {'signature': 'sig1="abc"'}],
    ['an empty signature', {'signature': 'sig1=::'}],
    ['a covered component that is a token', {'signature-input': `sig1=(@method "@target-uri" "content-digest");created=${NOW}`}],
    ['an unknown derived component', {'signature-input': `sig1=("@method" "@target-uri" "content-digest" "@bogus");created=${NOW}`}],
    ['a component covered twice', {'signature-input': `sig1=("@method" "@target-uri" "content-digest" "@method");created=${NOW}`}],
    ['created that is not an integer', {'signature-input': `sig1=("@method" "@target-uri" "content-digest");created="${NOW}"`}],
  ]
  for (const [name, patch] of malformed) {
    test(`${name} is malformed`, async () => {
      const req = await signed('p256')
      const result = await verifyRequest({...req, headers: {...req.headers, ...patch}}, {publicKey: keys.p256.publicKey, now: NOW})
      expectFailure(result, 'malformed')
    })
  }

  test('a covered header field absent from the request fails', async () => {
    const headers = await signRequest({method: 'GET', url: TARGET, headers: {'x-trace': 'abc'}},
      {privateKey: keys.p256.privateKey, keyId: 'k', created: NOW, components: ['@method', '@target-uri', 'x-trace']})
    expectFailure(await verifyRequest({method: 'GET', url: TARGET, headers, body: EMPTY}, {publicKey: keys.p256.publicKey, now: NOW}), 'bad-signature')
    const ok = await verifyRequest({method: 'GET', url: TARGET, headers: {...headers, 'X-Trace': 'abc'}, body: EMPTY}, {publicKey: keys.p256.publicKey, now: NOW})
    expect(ok.ok).toBe(true)
  })
})

describe('verifyRequest: interoperability profiles', () => {
  test('conformance profile A: label sig, @authority, SPKI-hash keyid, no alg, RSA rsa-pss-sha512', async () => {
    const {privateKey, publicKey} = keys.rsa2048
    const url = 'http://127.0.0.1:8080/v1alpha2/margo/api/v1/clients/abc/capabilities'
    const headers = await signRequest({method: 'POST', url, body: BODY}, {
      privateKey, keyId: spkiSha256Hex(publicKey), alg: 'rsa-pss-sha512', label: 'sig', created: NOW, includeAlg: false,
      components: ['@method', '@target-uri', '@authority', 'content-digest'],
    })
    expect(headers['signature-input']).toBe(
      `sig=("@method" "@target-uri" "@authority" "content-digest");created=${NOW};keyid="${spkiSha256Hex(publicKey)}"`)
    const result = await verifyRequest({method: 'POST', url, headers, body: BODY}, {publicKey, now: NOW})
    expect(result).toMatchObject({ok: true, label: 'sig', alg: 'rsa-pss-sha512', keyid: spkiSha256Hex(publicKey)})
    // @authority is derived from the URL the server rebuilt, so another host breaks it.
    const moved = await verifyRequest({method: 'POST', url: url.replace('8080', '8081'), headers, body: BODY}, {publicKey, now: NOW})
    expectFailure(moved, 'bad-signature')
  })

  test('conformance profile A, built by hand like the Go signer (PSS with maximum salt length)', async () => {
    const {privateKey, publicKey} = keys.rsa2048
    const url = 'http://127.0.0.1:8080/v1alpha2/margo/api/v1/clients/abc/capabilities'
    const keyid = spkiSha256Hex(publicKey)
    const params = `("@method" "@target-uri" "@authority" "content-digest");created=${NOW};keyid="${keyid}"`
    const base = [
      '"@method": POST',
      `"@target-uri": ${url}`,
      '"@authority": 127.0.0.1:8080',
      `"content-digest": ${contentDigest(BODY)}`,
      `"@signature-params": ${params}`,
    ].join('\n')
    const sig = sign('sha512', Buffer.from(base), {key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN})
    const headers = {
      'Content-Digest': contentDigest(BODY),
      'Signature-Input': `sig=${params}`,
      'Signature': `sig=:${sig.toString('base64')}:`,
    }
    expect(await verifyRequest({method: 'POST', url, headers, body: BODY}, {publicKey, now: NOW})).toMatchObject({ok: true, alg: 'rsa-pss-sha512'})
  })

  test('conformance profile C: label sig1, keyid "device-key", alg rsa-v1_5-sha256', async () => {
    const {privateKey, publicKey} = keys.rsa2048
    const headers = await signRequest({method: 'POST', url: TARGET, body: BODY},
      {privateKey, keyId: 'device-key', alg: 'rsa-v1_5-sha256', created: NOW})
    const result = await verifyRequest({method: 'POST', url: TARGET, headers, body: BODY}, {publicKey, now: NOW})
    expect(result).toMatchObject({ok: true, label: 'sig1', alg: 'rsa-v1_5-sha256', keyid: 'device-key'})
  })

  test('a capitalised "Content-Digest" identifier, as the Margo spec text writes it, verifies', async () => {
    const {privateKey, publicKey} = keys.p256
    const params = `("@method" "@target-uri" "Content-Digest");created=${NOW};keyid="k"`
    const base = [
      '"@method": POST',
      `"@target-uri": ${TARGET}`,
      `"Content-Digest": ${contentDigest(BODY)}`,
      `"@signature-params": ${params}`,
    ].join('\n')
    const sig = sign('sha256', Buffer.from(base), {key: privateKey, dsaEncoding: 'ieee-p1363'})
    const headers = {'content-digest': contentDigest(BODY), 'Signature-Input': `sig1=${params}`, 'Signature': `sig1=:${sig.toString('base64')}:`}
    const result = await verifyRequest({method: 'POST', url: TARGET, headers, body: BODY}, {publicKey, now: NOW})
    expect(result).toMatchObject({ok: true, covered: ['@method', '@target-uri', 'Content-Digest']})
    // The identifier is part of the signed base as written: a lowercase base would not verify.
    const lowered = {...headers, 'Signature-Input': `sig1=${params.replace('Content-Digest', 'content-digest')}`}
    expectFailure(await verifyRequest({method: 'POST', url: TARGET, headers: lowered, body: BODY}, {publicKey, now: NOW}), 'bad-signature')
  })

  test('an extra covered content-type is verified as well', async () => {
    const {privateKey, publicKey} = keys.p256
    const reqHeaders = {'Content-Type': 'application/json'}
    const headers = await signRequest({method: 'POST', url: TARGET, body: BODY, headers: reqHeaders},
      {privateKey, keyId: 'k', created: NOW, components: ['@method', '@target-uri', 'content-digest', 'content-type']})
    const all = {...reqHeaders, ...headers}
    expect(await verifyRequest({method: 'POST', url: TARGET, headers: all, body: BODY}, {publicKey, now: NOW}))
      .toMatchObject({ok: true, covered: ['@method', '@target-uri', 'content-digest', 'content-type']})
    const changed = {...all, 'Content-Type': 'text/plain'}
    expectFailure(await verifyRequest({method: 'POST', url: TARGET, headers: changed, body: BODY}, {publicKey, now: NOW}), 'bad-signature')
  })

  test('a Fetch Headers object is accepted', async () => {
    const req = await signed('ed25519')
    const result = await verifyRequest({...req, headers: new Headers(req.headers)}, {publicKey: keys.ed25519.publicKey, now: NOW})
    expect(result).toMatchObject({ok: true, alg: 'ed25519'})
  })

  test('with several labels, the first one with both halves is the one verified', async () => {
    const first = await signed('p256')
    const second = await signRequest({method: 'POST', url: TARGET, body: BODY},
      {privateKey: keys.p384.privateKey, keyId: 'other', label: 'sig2', created: NOW})
    const headers = {
      ...first.headers,
      'signature-input': `${second['signature-input']}, ${first.headers['signature-input']}`,
      'signature': `${first.headers['signature']}, ${second['signature']}`,
    }
    // sig2 comes first in Signature-Input, so it is verified, with the p384 key.
    expect(await verifyRequest({...first, headers}, {publicKey: keys.p384.publicKey, now: NOW})).toMatchObject({ok: true, label: 'sig2'})
    expectFailure(await verifyRequest({...first, headers}, {publicKey: keys.p256.publicKey, now: NOW}), 'unsupported-algorithm')
  })

  test('derived components @scheme, @path, @query and @request-target are supported', async () => {
    const {privateKey, publicKey} = keys.p256
    const url = `${TARGET}?since=5`
    const headers = await signRequest({method: 'GET', url}, {privateKey, keyId: 'k', created: NOW,
      components: ['@method', '@target-uri', '@scheme', '@path', '@query', '@request-target', '@authority']})
    expect(await verifyRequest({method: 'GET', url, headers, body: EMPTY}, {publicKey, now: NOW})).toMatchObject({ok: true})
    expectFailure(await verifyRequest({method: 'GET', url: `${TARGET}?since=6`, headers, body: EMPTY}, {publicKey, now: NOW}), 'bad-signature')
  })
})
