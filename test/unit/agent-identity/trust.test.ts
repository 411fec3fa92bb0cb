import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, test} from 'bun:test'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {TransportError} from '../../../src/agent/device-client.ts'
import {TrustError, decodeCertificates, rememberedCaPath, resolveTrust} from '../../../src/agent/trust.ts'
import {createCertificateAuthority, parseCertificate} from '../../../src/pki/index.ts'
import {PREFIX, startWfm, tempDir, type WfmDouble} from './helpers.ts'

let wfm: WfmDouble
let dir: ReturnType<typeof tempDir>
beforeAll(async () => {
  wfm = await startWfm()
})
afterAll(() => wfm.stop())
beforeEach(() => {
  dir = tempDir()
  wfm.requests.length = 0
  wfm.caAnswer = 'base64-der'
})
afterEach(() => dir.cleanup())

async function expectTrustError(p: Promise<unknown>, code: string): Promise<TrustError> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(TrustError)
    expect((err as TrustError).code).toBe(code)
    return err as TrustError
  }
  throw new Error('expected a TrustError')
}

/** A verified request against the WFM with the CA resolveTrust chose. */
async function verifiedGet(caPem: string, url = `${wfm.base}/api/v1/onboarding/certificate`): Promise<number> {
  const res = await fetch(url, {tls: {ca: caPem}} as RequestInit)
  await res.arrayBuffer()
  return res.status
}

describe('CL-04: the WFM is trusted only through a provisioned or securely obtained CA', () => {
  test('with no CA file, fingerprint, remembered CA or TOFU, nothing is downloaded and the error lists the choices', async () => {
    const err = await expectTrustError(resolveTrust(dir.path, {server: wfm.base}), 'no_trust')
    expect(err.message).toContain('--ca-file')
    expect(err.message).toContain('--ca-fingerprint')
    expect(err.message).toContain('--insecure-tofu')
    expect(err.retryable).toBe(false)
    expect(wfm.requests).toHaveLength(0)
  })

  test('--ca-file is used as is, without any request', async () => {
    const caFile = join(dir.path, 'wfm-ca.pem')
    writeFileSync(caFile, wfm.caPem)
    const trust = await resolveTrust(dir.path, {server: wfm.base, caFile})
    expect(trust.source).toBe('file')
    expect(trust.fingerprints).toEqual([wfm.caFingerprint])
    expect(wfm.requests).toHaveLength(0)
    expect(existsSync(rememberedCaPath(dir.path))).toBe(false)
    expect(await verifiedGet(trust.caPem)).toBe(200)
  })

  test('--ca-file may hold a chain; with a fingerprint one of them must match it', async () => {
    const other = await createCertificateAuthority({commonName: 'unrelated'})
    const caFile = join(dir.path, 'chain.pem')
    writeFileSync(caFile, other.certPem + wfm.caPem)
    const trust = await resolveTrust(dir.path, {server: wfm.base, caFile, caFingerprint: wfm.caFingerprint})
    expect(trust.fingerprints).toHaveLength(2)
    const wrong = join(dir.path, 'wrong.pem')
    writeFileSync(wrong, other.certPem)
    await expectTrustError(resolveTrust(dir.path, {server: wfm.base, caFile: wrong, caFingerprint: wfm.caFingerprint}), 'fingerprint_mismatch')
  })

  test('an unreadable or empty CA file is a clear error', async () => {
    await expectTrustError(resolveTrust(dir.path, {server: wfm.base, caFile: join(dir.path, 'nope.pem')}), 'bad_ca')
    const junk = join(dir.path, 'junk.pem')
    writeFileSync(junk, 'hello')
    await expectTrustError(resolveTrust(dir.path, {server: wfm.base, caFile: junk}), 'bad_ca')
  })
})

describe('CL-05: the CA is downloaded from /api/v1/onboarding/certificate and checked, then verifies TLS and host name', () => {
  test('a matching --ca-fingerprint accepts the downloaded CA and remembers it', async () => {
    const colonHex = wfm.caFingerprint.slice(7).toUpperCase().match(/../g)!.join(':')
    const trust = await resolveTrust(dir.path, {server: wfm.base, caFingerprint: colonHex})
    expect(trust.source).toBe('pinned')
    expect(trust.fingerprints).toEqual([wfm.caFingerprint])
    expect(wfm.requests.map(r => r.url)).toEqual([`${wfm.base}/api/v1/onboarding/certificate`])
    // The download carries no signature: nothing identifies the device yet.
    expect(wfm.requests[0]!.headers.get('signature')).toBeNull()
    expect(readFileSync(rememberedCaPath(dir.path), 'utf8')).toBe(trust.caPem)
    expect(await verifiedGet(trust.caPem)).toBe(200)

    wfm.requests.length = 0
    const again = await resolveTrust(dir.path, {server: wfm.base, caFingerprint: wfm.caFingerprint})
    expect(again.source).toBe('remembered')
    expect(wfm.requests).toHaveLength(0)
  })

  test('a fingerprint mismatch is refused and nothing is remembered', async () => {
    const err = await expectTrustError(resolveTrust(dir.path, {server: wfm.base, caFingerprint: `sha256:${'0'.repeat(64)}`}), 'fingerprint_mismatch')
    expect(err.message).toContain(wfm.caFingerprint)
    expect(err.message).toContain('refusing')
    expect(existsSync(rememberedCaPath(dir.path))).toBe(false)
  })

  test('a new pin that does not match the remembered CA downloads again', async () => {
    const other = await createCertificateAuthority({commonName: 'old CA'})
    writeFileSync(rememberedCaPath(dir.path), other.certPem)
    const trust = await resolveTrust(dir.path, {server: wfm.base, caFingerprint: wfm.caFingerprint})
    expect(trust.source).toBe('pinned')
    expect(wfm.requests).toHaveLength(1)
  })

  test('--insecure-tofu accepts the first CA with a warning and remembers it', async () => {
    const warnings: Array<{event: string, fields?: Record<string, unknown>}> = []
    const log = {warn: (event: string, fields?: Record<string, unknown>) => warnings.push({event, fields}), info() {}}
    const trust = await resolveTrust(dir.path, {server: wfm.base, insecureTofu: true, log})
    expect(trust.source).toBe('tofu')
    expect(warnings.map(w => w.event)).toEqual(['trust.tofu_accepted'])
    expect(warnings[0]!.fields?.fingerprints).toEqual([wfm.caFingerprint])
    const again = await resolveTrust(dir.path, {server: wfm.base, insecureTofu: true, log})
    expect(again.source).toBe('remembered')
    expect(warnings).toHaveLength(1)
    // Remembered means remembered even after TOFU is switched off.
    expect((await resolveTrust(dir.path, {server: wfm.base})).source).toBe('remembered')
  })

  test('the trusted CA checks the host name: the same server under another name is refused', async () => {
    const trust = await resolveTrust(dir.path, {server: wfm.base, caFingerprint: wfm.caFingerprint})
    const byName = wfm.base.replace('127.0.0.1', 'localhost')
    await expect(verifiedGet(trust.caPem, `${byName}/api/v1/onboarding/certificate`)).rejects.toThrow()
  })

  test('a download that fails at the transport level is retryable', async () => {
    const err = await expectTrustError(resolveTrust(dir.path, {server: 'https://127.0.0.1:1/v1alpha2/margo', insecureTofu: true}), 'download_failed')
    expect(err.retryable).toBe(true)
    expect(err.cause).toBeInstanceOf(TransportError)
  })

  test('a 404 (wrong prefix) says to check the URL', async () => {
    const err = await expectTrustError(resolveTrust(dir.path, {server: wfm.origin, insecureTofu: true}), 'download_failed')
    expect(err.retryable).toBe(false)
    expect(err.message).toContain(PREFIX)
  })
})

describe('A14: the root CA arrives as base64 DER, base64 PEM or PEM', () => {
  for (const answer of ['base64-der', 'base64-pem', 'pem-json', 'pem-text'] as const) {
    test(answer, async () => {
      wfm.caAnswer = answer
      const trust = await resolveTrust(dir.path, {server: wfm.base, caFingerprint: wfm.caFingerprint})
      expect(trust.fingerprints).toEqual([wfm.caFingerprint])
      expect(await verifiedGet(trust.caPem)).toBe(200)
    })
  }

  test('a pinned chain keeps only the pinned certificate', async () => {
    const other = await createCertificateAuthority({commonName: 'smuggled'})
    wfm.routes.push((_req, path) => path === '/api/v1/onboarding/certificate'
      ? Response.json({certificate: Buffer.from(other.certPem + wfm.caPem).toString('base64')})
      : undefined)
    try {
      const trust = await resolveTrust(dir.path, {server: wfm.base, caFingerprint: wfm.caFingerprint})
      expect(trust.fingerprints).toEqual([wfm.caFingerprint])
      const parsed = parseCertificate(trust.caPem)
      expect(parsed.ok && parsed.fingerprint).toBe(wfm.caFingerprint)
      expect(trust.caPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(1)
    } finally {
      wfm.routes.length = 0
    }
  })

  test('decodeCertificates reads raw DER and rejects junk', () => {
    const der = Buffer.from(wfm.caDerBase64, 'base64')
    expect(decodeCertificates(der)?.[0]?.fingerprint).toBe(wfm.caFingerprint)
    expect(decodeCertificates('bm90IGEgY2VydA==')).toBeNull()
    expect(decodeCertificates('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toBeNull()
  })
})
