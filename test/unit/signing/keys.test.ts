import {describe, expect, test} from 'bun:test'
import {constants, createPublicKey, generateKeyPairSync, verify} from 'node:crypto'
import {
  algorithmMatchesKey,
  candidateAlgorithms,
  defaultAlgorithm,
  describeKey,
  generateKeyPair,
  loadPrivateKey,
  loadPublicKey,
  privateKeyToPem,
  publicKeyToPem,
  signBytes,
  spkiSha256Hex,
  verifyBytes,
} from '../../../src/signing/index.ts'

describe('keys', () => {
  test('generateKeyPair makes the requested key types', () => {
    expect(describeKey(generateKeyPair('p256').publicKey)).toEqual({keyType: 'ec-p256', bits: 256})
    expect(describeKey(generateKeyPair('p384').publicKey)).toEqual({keyType: 'ec-p384', bits: 384})
    expect(describeKey(generateKeyPair('rsa2048').publicKey)).toEqual({keyType: 'rsa-2048', bits: 2048})
    expect(describeKey(generateKeyPair('ed25519').publicKey)).toEqual({keyType: 'ed25519', bits: 256})
  })

  test('describeKey names other curves and RSA sizes', () => {
    expect(describeKey(generateKeyPairSync('ec', {namedCurve: 'P-521'}).publicKey).keyType).toBe('ec-secp521r1')
    expect(describeKey(generateKeyPairSync('rsa', {modulusLength: 1024}).publicKey)).toEqual({keyType: 'rsa-1024', bits: 1024})
  })

  test('loadPrivateKey reads PKCS#8, SEC1 and PKCS#1 PEM', () => {
    const ec = generateKeyPair('p256')
    const rsa = generateKeyPair('rsa2048')
    const sec1 = ec.privateKey.export({type: 'sec1', format: 'pem'}).toString()
    const pkcs1 = rsa.privateKey.export({type: 'pkcs1', format: 'pem'}).toString()
    expect(sec1).toContain('BEGIN EC PRIVATE KEY')
    expect(pkcs1).toContain('BEGIN RSA PRIVATE KEY')
    for (const [pem, pair] of [[sec1, ec], [pkcs1, rsa], [privateKeyToPem(ec.privateKey), ec]] as const) {
      const loaded = loadPrivateKey(pem)
      expect(createPublicKey(loaded).export({type: 'spki', format: 'pem'})).toBe(pair.publicKey.export({type: 'spki', format: 'pem'}))
    }
  })

  test('loadPrivateKey finds the key in a file that also holds a certificate', () => {
    const ec = generateKeyPair('p256')
    const bundle = `-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n${privateKeyToPem(ec.privateKey)}`
    expect(spkiSha256Hex(createPublicKey(loadPrivateKey(bundle)))).toBe(spkiSha256Hex(ec.publicKey))
  })

  test('loadPrivateKey explains what is wrong', () => {
    expect(() => loadPrivateKey('hello')).toThrow(/no PEM private key/)
    expect(() => loadPrivateKey('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA\n-----END ENCRYPTED PRIVATE KEY-----')).toThrow(/encrypted/)
    expect(() => loadPrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----')).toThrow(/could not be read/)
  })

  test('loadPublicKey accepts SPKI and private key PEM', () => {
    const ed = generateKeyPair('ed25519')
    expect(spkiSha256Hex(loadPublicKey(publicKeyToPem(ed.publicKey)))).toBe(spkiSha256Hex(ed.publicKey))
    expect(spkiSha256Hex(loadPublicKey(privateKeyToPem(ed.privateKey)))).toBe(spkiSha256Hex(ed.publicKey))
  })

  test('spkiSha256Hex is 64 lowercase hex characters', () => {
    expect(spkiSha256Hex(generateKeyPair('p256').publicKey)).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('algorithm table', () => {
  test('candidateAlgorithms follows the key type', () => {
    expect(candidateAlgorithms(generateKeyPair('p256').publicKey)).toEqual(['ecdsa-p256-sha256'])
    expect(candidateAlgorithms(generateKeyPair('p384').publicKey)).toEqual(['ecdsa-p384-sha384'])
    expect(candidateAlgorithms(generateKeyPair('rsa2048').publicKey)).toEqual(['rsa-pss-sha512', 'rsa-v1_5-sha256', 'rsa-pss-sha256'])
    expect(candidateAlgorithms(generateKeyPair('ed25519').publicKey)).toEqual(['ed25519'])
    expect(candidateAlgorithms(generateKeyPairSync('ec', {namedCurve: 'P-521'}).publicKey)).toEqual([])
  })

  test('defaultAlgorithm prefers rsa-v1_5-sha256 for RSA and follows the curve for EC', () => {
    expect(defaultAlgorithm(generateKeyPair('rsa2048').privateKey)).toBe('rsa-v1_5-sha256')
    expect(defaultAlgorithm(generateKeyPair('p384').privateKey)).toBe('ecdsa-p384-sha384')
    expect(() => defaultAlgorithm(generateKeyPairSync('ec', {namedCurve: 'P-521'}).privateKey)).toThrow()
  })

  test('algorithmMatchesKey checks the curve, not only the key family', () => {
    const p256 = generateKeyPair('p256').publicKey
    expect(algorithmMatchesKey('ecdsa-p256-sha256', p256)).toBe(true)
    expect(algorithmMatchesKey('ecdsa-p384-sha384', p256)).toBe(false)
    expect(algorithmMatchesKey('rsa-v1_5-sha256', p256)).toBe(false)
    expect(algorithmMatchesKey('ed25519', generateKeyPair('ed25519').publicKey)).toBe(true)
  })

  test('rsa-pss-sha256 signs with a 32-byte salt and rsa-pss-sha512 with a 64-byte salt', () => {
    const {privateKey, publicKey} = generateKeyPair('rsa2048')
    const data = Buffer.from('"@method": GET')
    const pss = (hash: string, saltLength: number, sig: Uint8Array) =>
      verify(hash, data, {key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength}, sig)
    const s256 = signBytes('rsa-pss-sha256', privateKey, data)
    expect(pss('sha256', 32, s256)).toBe(true)
    expect(pss('sha256', 64, s256)).toBe(false)
    const s512 = signBytes('rsa-pss-sha512', privateKey, data)
    expect(pss('sha512', 64, s512)).toBe(true)
    expect(pss('sha512', 32, s512)).toBe(false)
    expect(verifyBytes('rsa-pss-sha256', publicKey, data, s512)).toBe(false)
    expect(verifyBytes('rsa-v1_5-sha256', publicKey, data, s256)).toBe(false)
  })

  test('ECDSA signatures are IEEE P1363 r||s, not DER', () => {
    const {privateKey, publicKey} = generateKeyPair('p256')
    const data = Buffer.from('base')
    const sig = signBytes('ecdsa-p256-sha256', privateKey, data)
    expect(sig.length).toBe(64)
    expect(verify('sha256', data, {key: publicKey, dsaEncoding: 'ieee-p1363'}, sig)).toBe(true)
    expect(verifyBytes('ecdsa-p256-sha256', publicKey, data, sig)).toBe(true)
  })

  test('verifyBytes never throws on garbage', () => {
    const {publicKey} = generateKeyPair('rsa2048')
    expect(verifyBytes('rsa-pss-sha512', publicKey, Buffer.from('x'), new Uint8Array(3))).toBe(false)
    expect(verifyBytes('ed25519', publicKey, Buffer.from('x'), new Uint8Array(64))).toBe(false)
  })
})
