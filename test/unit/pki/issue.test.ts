import 'reflect-metadata'
import {afterEach, describe, expect, test} from 'bun:test'
import {createPublicKey, X509Certificate} from 'node:crypto'
import * as x509 from '@peculiar/x509'
import {
  certificatePolicyProblems,
  certificateToBase64Der,
  createCertificateAuthority,
  createSelfSignedDeviceCertificate,
  issueServerCertificate,
  parseCertificate,
} from '../../../src/pki/index.ts'
import {generateKeyPair, loadPrivateKey, signRequest, spkiSha256Hex, verifyRequest} from '../../../src/signing/index.ts'

const DAY_MS = 86_400_000

describe('createSelfSignedDeviceCertificate', () => {
  for (const type of ['p256', 'p384', 'rsa2048', 'ed25519'] as const) {
    test(`CL-06: a ${type} device certificate is self-signed by the device key`, async () => {
      const pair = generateKeyPair(type)
      const pem = await createSelfSignedDeviceCertificate({...pair, subject: 'CN=margo-agent-host1,O=margo'})
      const cert = new X509Certificate(pem)
      expect(cert.verify(pair.publicKey)).toBe(true)
      // checkIssued(cert) is false by design: OpenSSL requires keyCertSign of an issuer, and a
      // device certificate is an end entity limited to digitalSignature.
      expect(cert.issuer).toBe(cert.subject)
      expect(cert.subject).toBe('CN=margo-agent-host1\nO=margo')
      expect(spkiSha256Hex(cert.publicKey)).toBe(spkiSha256Hex(pair.publicKey))
      expect(cert.ca).toBe(false)
    })
  }

  test('carries SKI, BasicConstraints CA:false and KeyUsage digitalSignature; lasts 825 days', async () => {
    const pair = generateKeyPair('p256')
    const cert = new x509.X509Certificate(await createSelfSignedDeviceCertificate({...pair, subject: 'CN=margo-agent-h,O=margo'}))
    const bc = cert.getExtension(x509.BasicConstraintsExtension)
    expect(bc?.ca).toBe(false)
    expect(bc?.critical).toBe(true)
    expect(cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature)
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/)
    const days = (cert.notAfter.getTime() - Date.now()) / DAY_MS
    expect(days).toBeGreaterThan(824)
    expect(days).toBeLessThanOrEqual(825)
    expect(cert.notBefore.getTime()).toBeLessThan(Date.now())
  })

  test('CL-07: its base64 DER parses and its key verifies signed requests (onboarding proof of possession)', async () => {
    const pair = generateKeyPair('p256')
    const pem = await createSelfSignedDeviceCertificate({...pair, subject: 'CN=margo-agent-h,O=margo', days: 30})
    const parsed = parseCertificate(certificateToBase64Der(pem))
    if (!parsed.ok) throw new Error(parsed.reason)
    const body = new TextEncoder().encode('{}')
    const url = 'https://wfm.example.com/api/v1/onboarding'
    const headers = await signRequest({method: 'POST', url, body}, {privateKey: pair.privateKey, keyId: parsed.fingerprint})
    expect((await verifyRequest({method: 'POST', url, headers, body}, {publicKey: parsed.cert.publicKey})).ok).toBe(true)
  })

  test('an empty subject is flagged by the policy check', async () => {
    const pem = await createSelfSignedDeviceCertificate({...generateKeyPair('p256'), subject: ''})
    expect(certificatePolicyProblems(new X509Certificate(pem))).toContain('the certificate subject is empty')
  })
})

describe('certificatePolicyProblems on keys Margo does not accept', () => {
  test('WFM-09: an EC P-521 certificate is refused', async () => {
    const keys = await crypto.subtle.generateKey({name: 'ECDSA', namedCurve: 'P-521'}, true, ['sign', 'verify'])
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=p521', keys, signingAlgorithm: {name: 'ECDSA', hash: 'SHA-512'},
      notBefore: new Date(Date.now() - DAY_MS), notAfter: new Date(Date.now() + DAY_MS),
    }, crypto)
    const problems = certificatePolicyProblems(new X509Certificate(cert.toString('pem')))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/ec-secp521r1 is not accepted/)
  })
})

describe('certificate authority and server certificates', () => {
  test('WFM-03: the CA is a CA and the server certificate chains to it', async () => {
    const ca = await createCertificateAuthority({commonName: 'Margo WFM Root, test'})
    const srv = await issueServerCertificate({caCertPem: ca.certPem, caKeyPem: ca.keyPem, sans: ['wfm.example.com', '127.0.0.1', '::1', '[fe80::1]'], commonName: 'wfm.example.com'})
    const caCert = new X509Certificate(ca.certPem)
    const leaf = new X509Certificate(srv.certPem)
    expect(caCert.ca).toBe(true)
    expect(caCert.verify(caCert.publicKey)).toBe(true)
    expect(leaf.ca).toBe(false)
    expect(leaf.verify(caCert.publicKey)).toBe(true)
    expect(leaf.checkIssued(caCert)).toBe(true)
    expect(leaf.verify(generateKeyPair('p256').publicKey)).toBe(false)
    expect(leaf.checkHost('wfm.example.com')).toBe('wfm.example.com')
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(leaf.checkIP('::1')).toBe('::1')
    expect(leaf.checkIP('fe80::1')).toBe('fe80::1')
    expect(leaf.checkHost('other.example.com')).toBeUndefined()
    expect(leaf.subjectAltName).toBe('DNS:wfm.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FE80:0:0:0:0:0:0:1')
    // The returned key is the leaf's key.
    expect(spkiSha256Hex(leaf.publicKey)).toBe(spkiSha256Hex(createPublicKey(loadPrivateKey(srv.keyPem))))
  })

  test('server certificate extensions: serverAuth EKU, AKI equal to the CA SKI, CA:false', async () => {
    const ca = await createCertificateAuthority({commonName: 'root', keyType: 'p384'})
    const srv = await issueServerCertificate({caCertPem: ca.certPem, caKeyPem: ca.keyPem, sans: ['localhost'], commonName: 'localhost'})
    const caCert = new x509.X509Certificate(ca.certPem)
    const leaf = new x509.X509Certificate(srv.certPem)
    expect(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth])
    expect(leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId)
      .toBe(caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId as string)
    expect(leaf.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false)
    expect(caCert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true)
    expect(leaf.issuer).toBe(caCert.subject)
    expect(await leaf.verify({publicKey: caCert.publicKey, signatureOnly: true}, crypto)).toBe(true)
  })

  test('an RSA CA works and the leaf never outlives it', async () => {
    const ca = await createCertificateAuthority({commonName: 'short root', keyType: 'rsa2048', days: 10})
    const srv = await issueServerCertificate({caCertPem: ca.certPem, caKeyPem: ca.keyPem, sans: ['localhost'], commonName: 'localhost'})
    const caCert = new X509Certificate(ca.certPem)
    const leaf = new X509Certificate(srv.certPem)
    expect(leaf.checkIssued(caCert)).toBe(true)
    expect(leaf.verify(caCert.publicKey)).toBe(true)
    expect(leaf.validToDate.getTime()).toBeLessThanOrEqual(caCert.validToDate.getTime())
  })

  test('a server certificate needs a SAN', async () => {
    const ca = await createCertificateAuthority({commonName: 'root'})
    await expect(issueServerCertificate({caCertPem: ca.certPem, caKeyPem: ca.keyPem, sans: [], commonName: 'x'})).rejects.toThrow(/subject alternative name/)
  })
})

describe('TLS with the issued certificate', () => {
  let server: ReturnType<typeof Bun.serve> | undefined
  afterEach(() => {
    server?.stop(true)
    server = undefined
  })

  test('CL-05 / WFM-02: Bun.serve presents it and fetch trusts it through the CA only', async () => {
    const ca = await createCertificateAuthority({commonName: 'Margo test root'})
    const srv = await issueServerCertificate({caCertPem: ca.certPem, caKeyPem: ca.keyPem, sans: ['localhost', '127.0.0.1', '::1'], commonName: 'localhost'})
    server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      tls: {cert: srv.certPem, key: srv.keyPem},
      fetch: () => new Response('margo'),
    })
    const url = `https://127.0.0.1:${server.port}/`
    const ok = await fetch(url, {tls: {ca: ca.certPem}})
    expect(ok.status).toBe(200)
    expect(await ok.text()).toBe('margo')

    // Without the CA, and with an unrelated CA, the handshake must be refused.
    await expect(fetch(url)).rejects.toThrow()
    const stranger = await createCertificateAuthority({commonName: 'stranger'})
    await expect(fetch(url, {tls: {ca: stranger.certPem}})).rejects.toThrow()
  })
})
