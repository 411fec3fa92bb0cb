import {describe, expect, test} from 'bun:test'
import {createPrivateKey, createPublicKey} from 'node:crypto'
import {signatureBaseFor, signRequest, verifyBytes, verifyRequest} from '../../../src/signing/index.ts'

// RFC 9421 Appendix B.1.4 test-key-ed25519 and the B.2 example request.
const PRIVATE = createPrivateKey('-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n')
const PUBLIC = createPublicKey('-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n-----END PUBLIC KEY-----\n')
const URL_B2 = 'https://example.com/foo?param=Value&Pet=dog'
const BODY = '{"hello": "world"}'
const HEADERS = {
  'Host': 'example.com',
  'Date': 'Tue, 20 Apr 2021 02:07:55 GMT',
  'Content-Type': 'application/json',
  'Content-Digest': 'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
  'Content-Length': '18',
}
const CREATED = 1618884473
const EXPECTED_INPUT = 'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"'
const EXPECTED_SIGNATURE = 'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:'
const EXPECTED_BASE = [
  '"date": Tue, 20 Apr 2021 02:07:55 GMT',
  '"@method": POST',
  '"@path": /foo',
  '"@authority": example.com',
  '"content-type": application/json',
  '"content-length": 18',
  '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
].join('\n')

async function signB26() {
  return signRequest({method: 'POST', url: URL_B2, headers: HEADERS, body: BODY}, {
    privateKey: PRIVATE,
    keyId: 'test-key-ed25519',
    label: 'sig-b26',
    created: CREATED,
    includeAlg: false,
    components: ['date', '@method', '@path', '@authority', 'content-type', 'content-length'],
  })
}

describe('RFC 9421 Appendix B.2.6 (ed25519)', () => {
  test('reproduces Signature-Input and Signature byte for byte', async () => {
    const out = await signB26()
    expect(out['signature-input']).toBe(EXPECTED_INPUT)
    expect(out['signature']).toBe(EXPECTED_SIGNATURE)
  })

  test('rebuilds the published signature base', async () => {
    const base = signatureBaseFor({method: 'POST', url: URL_B2, headers: {...HEADERS, 'Signature-Input': EXPECTED_INPUT}})
    expect(base).toBe(EXPECTED_BASE)
  })

  test('the published signature verifies over the published base with the published key', () => {
    const sig = Buffer.from(EXPECTED_SIGNATURE.slice('sig-b26=:'.length, -1), 'base64')
    expect(verifyBytes('ed25519', PUBLIC, Buffer.from(EXPECTED_BASE), sig)).toBe(true)
    expect(verifyBytes('ed25519', PUBLIC, Buffer.from(EXPECTED_BASE + ' '), sig)).toBe(false)
  })

  test('WFM-12: the Margo verifier refuses it because @target-uri is not covered', async () => {
    const result = await verifyRequest({
      method: 'POST', url: URL_B2, body: new TextEncoder().encode(BODY),
      headers: {...HEADERS, 'Signature-Input': EXPECTED_INPUT, 'Signature': EXPECTED_SIGNATURE},
    }, {publicKey: PUBLIC, now: CREATED})
    expect(result).toMatchObject({ok: false, reason: 'target-not-covered'})
  })
})
