import {randomBytes, X509Certificate, type KeyObject} from 'node:crypto'
import {createSelfSignedDeviceCertificate} from '../../pki/index.ts'
import {
  algorithmMatchesKey, defaultAlgorithm, generateKeyPair, loadPrivateKey, spkiSha256Hex,
  type KeyType, type SignatureAlgorithm,
} from '../../signing/index.ts'

/** A device identity the runners sign with: a key, its self-signed certificate and the algorithm. */
export interface DeviceIdentity {
  privateKey: KeyObject
  certPem: string
  alg: SignatureAlgorithm
  /** Lower-case hex SHA-256 of the SPKI: the `keyid` several Margo signers send. */
  spkiSha256: string
  /** Whether the run created it (fresh keys) or was given it (`--key`/`--cert`). */
  generated: boolean
  /** True when the algorithm was chosen explicitly and should be announced with `alg`. */
  announceAlg: boolean
}

/** The key a signature algorithm needs. */
export function keyTypeFor(alg: SignatureAlgorithm): KeyType {
  switch (alg) {
    case 'ecdsa-p256-sha256': return 'p256'
    case 'ecdsa-p384-sha384': return 'p384'
    case 'ed25519': return 'ed25519'
    default: return 'rsa2048'
  }
}

/** The common name every fresh identity's certificate starts with (then a time and a random part). */
const CN_PREFIX = 'margo-conformance-'

/**
 * Whether a certificate subject, as a WFM shows it (`CN=…, OU=…, O=…` or one part per line),
 * is one a conformance run made for its fresh keys.
 */
export function isConformanceSubject(subject: string): boolean {
  const parts = subject.split(/\s*[,\n]\s*/)
  return parts.some(p => p.startsWith(`CN=${CN_PREFIX}`)) && parts.includes('OU=Conformance')
}

/**
 * A fresh key and a self-signed certificate, the way a new device presents itself. The subject
 * is unique per identity so a WFM that keys anything on it never mixes two runs up.
 */
export async function freshIdentity(alg: SignatureAlgorithm = 'ecdsa-p256-sha256', explicitAlg = false): Promise<DeviceIdentity> {
  const {privateKey, publicKey} = generateKeyPair(keyTypeFor(alg))
  const subject = `CN=${CN_PREFIX}${Math.floor(Date.now() / 1000)}-${randomBytes(3).toString('hex')},OU=Conformance,O=margo`
  const certPem = await createSelfSignedDeviceCertificate({privateKey, publicKey, subject, days: 365})
  return {privateKey, certPem, alg, spkiSha256: spkiSha256Hex(publicKey), generated: true, announceAlg: explicitAlg}
}

/** A given key and certificate; the certificate must hold the key's public half. */
export function givenIdentity(keyPem: string, certPem: string, alg?: SignatureAlgorithm): DeviceIdentity {
  const privateKey = loadPrivateKey(keyPem)
  let cert: X509Certificate
  try {
    cert = new X509Certificate(certPem)
  } catch (err) {
    throw new Error(`the certificate could not be read: ${(err as Error).message}`)
  }
  if (!cert.checkPrivateKey(privateKey)) throw new Error('the certificate does not belong to the private key')
  const chosen = alg ?? defaultAlgorithm(privateKey)
  if (!algorithmMatchesKey(chosen, privateKey)) {
    throw new Error(`algorithm ${chosen} cannot be used with this ${privateKey.asymmetricKeyType} key`)
  }
  return {privateKey, certPem: cert.toString(), alg: chosen, spkiSha256: spkiSha256Hex(privateKey), generated: false, announceAlg: alg !== undefined}
}

/** What every suite puts in `certificate`: base64 of the PEM text. */
export function certificateForOnboarding(identity: Pick<DeviceIdentity, 'certPem'>): string {
  return Buffer.from(identity.certPem, 'utf8').toString('base64')
}
