import {randomBytes, type KeyObject} from 'node:crypto'
import {isIP} from 'node:net'
import type * as X509 from '@peculiar/x509'
import {generateKeyPair, loadPrivateKey, privateKeyToPem} from '../signing/keys.ts'
import {toCryptoKeyPair, webAlgorithmsFor} from './webcrypto.ts'

const DAY_MS = 24 * 60 * 60 * 1000
/** Back-dating notBefore keeps a certificate usable by peers whose clocks run a little behind. */
const BACKDATE_MS = 5 * 60 * 1000

/**
 * The X.509 builder (and the reflect-metadata polyfill it needs) is loaded on first use: an agent
 * creates its certificate once, and should not keep the library resident for the rest of its life.
 */
async function loadX509(): Promise<typeof X509> {
  await import('reflect-metadata')
  return import('@peculiar/x509')
}

export type CaKeyType = 'p256' | 'p384' | 'rsa2048'

export interface CertificateAndKey {
  certPem: string
  keyPem: string
}

/** RFC 5280 §4.1.2.2: positive, at most 20 octets; 16 random bytes with the top bit cleared. */
function serialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01
  return bytes.toString('hex')
}

function validity(days: number, notAfterLimit?: Date): {notBefore: Date, notAfter: Date} {
  if (!Number.isFinite(days) || days <= 0) throw new Error('days must be a positive number')
  const now = Date.now()
  const notBefore = new Date(now - BACKDATE_MS)
  let notAfter = new Date(now + days * DAY_MS)
  if (notAfterLimit && notAfter > notAfterLimit) notAfter = notAfterLimit
  return {notBefore, notAfter}
}

/** A single-attribute name built structurally, so commas or plus signs in a value need no escaping. */
function nameOf(attrs: Array<[string, string]>): X509.JsonName {
  return attrs.map(([type, value]) => ({[type]: [value]}))
}

function certPem(cert: X509.X509Certificate): string {
  return `${cert.toString('pem').trim()}\n`
}

/**
 * A self-signed device certificate for request signing (not TLS): SubjectKeyIdentifier,
 * BasicConstraints CA:false and KeyUsage digitalSignature, all that RFC 5280 expects of an
 * end-entity signing certificate. `subject` is an RFC 4514 string such as `CN=margo-agent-host,O=margo`.
 */
export async function createSelfSignedDeviceCertificate(params: {
  privateKey: KeyObject
  publicKey: KeyObject
  subject: string
  days?: number
}): Promise<string> {
  const x509 = await loadX509()
  const {privateKey, publicKey, subject, days = 825} = params
  const keys = await toCryptoKeyPair(privateKey, publicKey)
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: subject,
    ...validity(days),
    keys,
    signingAlgorithm: webAlgorithmsFor(publicKey).signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    ],
  }, crypto)
  return certPem(cert)
}

/** The WFM's own root for its TLS server certificates, published to devices at onboarding. */
export async function createCertificateAuthority(params: {
  commonName: string
  days?: number
  keyType?: CaKeyType
}): Promise<CertificateAndKey> {
  const x509 = await loadX509()
  const {commonName, days = 3650, keyType = 'p256'} = params
  const {privateKey, publicKey} = generateKeyPair(keyType)
  const keys = await toCryptoKeyPair(privateKey, publicKey)
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: nameOf([['CN', commonName], ['O', 'margo']]),
    ...validity(days),
    keys,
    signingAlgorithm: webAlgorithmsFor(publicKey).signingAlgorithm,
    extensions: [
      // pathLen 0: this root only ever signs leaf server certificates.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    ],
  }, crypto)
  return {certPem: certPem(cert), keyPem: privateKeyToPem(privateKey)}
}

function subjectAltNames(sans: string[]): X509.JsonGeneralNames {
  return sans.map(raw => {
    const value = raw.trim().replace(/^\[(.*)\]$/, '$1')
    return isIP(value) ? {type: 'ip' as const, value} : {type: 'dns' as const, value: value.toLowerCase()}
  })
}

/**
 * A TLS server certificate signed by the CA: ServerAuth EKU, SAN (DNS names and IPv4/IPv6
 * addresses, detected automatically), AKI taken from the CA's SKI so chain building matches by
 * key, and a validity clamped to the CA's so the leaf never outlives its issuer.
 */
export async function issueServerCertificate(params: {
  caCertPem: string
  caKeyPem: string
  sans: string[]
  commonName: string
  days?: number
}): Promise<CertificateAndKey> {
  const x509 = await loadX509()
  const {caCertPem, caKeyPem, sans, commonName, days = 825} = params
  if (sans.length === 0) throw new Error('a server certificate needs at least one subject alternative name')
  const caCert = new x509.X509Certificate(caCertPem)
  const caPrivate = loadPrivateKey(caKeyPem)
  const caPublicKey = await caCert.publicKey.export(crypto)
  const caAlgorithms = webAlgorithmsFor(caPrivate)
  const caSigningKey = await crypto.subtle.importKey(
    'pkcs8', caPrivate.export({type: 'pkcs8', format: 'der'}), caAlgorithms.importParams, false, ['sign'])

  const {privateKey, publicKey} = generateKeyPair('p256')
  const keys = await toCryptoKeyPair(privateKey, publicKey)
  const caSki = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId
  const aki = caSki
    ? new x509.AuthorityKeyIdentifierExtension(caSki)
    : await x509.AuthorityKeyIdentifierExtension.create(caPublicKey, false, crypto)

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: nameOf([['CN', commonName], ['O', 'margo']]),
    issuer: caCert.subjectName,
    ...validity(days, caCert.notAfter),
    publicKey: keys.publicKey,
    signingKey: caSigningKey,
    signingAlgorithm: caAlgorithms.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(subjectAltNames(sans)),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      aki,
    ],
  }, crypto)
  return {certPem: certPem(cert), keyPem: privateKeyToPem(privateKey)}
}
