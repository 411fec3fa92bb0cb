import {describe, expect, test} from 'bun:test'
import {parseDictionary} from 'structured-headers'
import {contentDigest, generateKeyPair, signRequest} from '../../../src/signing/index.ts'

const URL_STATUS = 'https://wfm.example.com/api/v1/clients/3f0c2a9e/deployments/a3e2/status'
const body = new TextEncoder().encode('{"state":"installed"}')
const ec = generateKeyPair('p256')

describe('signRequest', () => {
  test('CL-09: a request with a body covers @method, @target-uri and content-digest under sig1', async () => {
    const out = await signRequest({method: 'POST', url: URL_STATUS, body}, {privateKey: ec.privateKey, keyId: 'client-1', created: 1767225600})
    expect(out['signature-input']).toBe(
      'sig1=("@method" "@target-uri" "content-digest");created=1767225600;keyid="client-1";alg="ecdsa-p256-sha256"')
    expect(out['signature']).toMatch(/^sig1=:[A-Za-z0-9+/]+={0,2}:$/)
    expect(Object.keys(out).sort()).toEqual(['content-digest', 'signature', 'signature-input'])
  })

  test('CL-10: content-digest is the sha-256 of the exact body bytes', async () => {
    const out = await signRequest({method: 'POST', url: URL_STATUS, body}, {privateKey: ec.privateKey, keyId: 'k'})
    expect(out['content-digest']).toBe(contentDigest(body))
  })

  test('CL-09: a GET covers only @method and @target-uri and sends no content-digest', async () => {
    const out = await signRequest({method: 'get', url: 'https://wfm.example.com/api/v1/clients/c/deployments'},
      {privateKey: ec.privateKey, keyId: 'c', created: 1767225600})
    expect(out['signature-input']).toBe('sig1=("@method" "@target-uri");created=1767225600;keyid="c";alg="ecdsa-p256-sha256"')
    expect(out['content-digest']).toBeUndefined()
  })

  test('CL-11: ECDSA P-256 signatures are raw r||s (64 bytes), P-384 96 bytes', async () => {
    for (const [type, size] of [['p256', 64], ['p384', 96]] as const) {
      const kp = generateKeyPair(type)
      const out = await signRequest({method: 'GET', url: URL_STATUS}, {privateKey: kp.privateKey, keyId: 'k'})
      const sig = parseDictionary(out['signature'] as string).get('sig1')?.[0]
      expect(sig).toBeInstanceOf(ArrayBuffer)
      expect((sig as ArrayBuffer).byteLength).toBe(size)
    }
  })

  test('RSA keys default to the Margo-mandatory rsa-v1_5-sha256', async () => {
    const rsa = generateKeyPair('rsa2048')
    const out = await signRequest({method: 'GET', url: URL_STATUS}, {privateKey: rsa.privateKey, keyId: 'k'})
    expect(out['signature-input']).toContain(';alg="rsa-v1_5-sha256"')
  })

  test('expires, nonce and a custom label are emitted when asked, alg can be left out', async () => {
    const out = await signRequest({method: 'GET', url: URL_STATUS},
      {privateKey: ec.privateKey, keyId: 'k', label: 'sig', created: 100, expires: 400, nonce: 'n1', includeAlg: false})
    expect(out['signature-input']).toBe('sig=("@method" "@target-uri");created=100;keyid="k";expires=400;nonce="n1"')
  })

  test('covered components can be overridden and keep their spelling', async () => {
    const out = await signRequest({method: 'POST', url: URL_STATUS, body, headers: {'Content-Type': 'application/json'}},
      {privateKey: ec.privateKey, keyId: 'k', created: 100, components: ['@method', '@target-uri', '"Content-Digest"', 'content-type']})
    expect(out['signature-input']).toStartWith('sig1=("@method" "@target-uri" "Content-Digest" "content-type");')
  })

  test('an algorithm that does not fit the key is refused', async () => {
    await expect(signRequest({method: 'GET', url: URL_STATUS}, {privateKey: ec.privateKey, keyId: 'k', alg: 'ecdsa-p384-sha384'}))
      .rejects.toThrow(/cannot be used/)
  })

  test('signature headers already on the request do not produce a second label', async () => {
    const out = await signRequest({method: 'GET', url: URL_STATUS, headers: {'Signature': 'sig1=:AAAA:', 'Signature-Input': 'sig1=();created=1'}},
      {privateKey: ec.privateKey, keyId: 'k'})
    expect([...parseDictionary(out['signature'] as string).keys()]).toEqual(['sig1'])
  })
})
