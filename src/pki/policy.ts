import type {X509Certificate} from 'node:crypto'
import {describeKey} from '../signing/keys.ts'

const MIN_RSA_BITS = 2048

function keyProblem(cert: X509Certificate): string | null {
  const {keyType, bits} = describeKey(cert.publicKey)
  if (keyType === 'ec-p256' || keyType === 'ec-p384' || keyType === 'ed25519') return null
  if (keyType.startsWith('rsa-')) {
    return bits !== undefined && bits >= MIN_RSA_BITS
      ? null
      : `the RSA key has ${bits ?? 'an unknown number of'} bits; at least ${MIN_RSA_BITS} are required`
  }
  return `the key type ${keyType} is not accepted; use EC P-256, EC P-384, RSA (2048 bits or more) or Ed25519`
}

/**
 * RFC 5280 sanity for a device certificate, as human-readable problems (empty when acceptable):
 * inside its validity period, a key strong enough for the Margo algorithms, a non-empty subject.
 * Trust (chain or explicit approval) is decided elsewhere.
 */
export function certificatePolicyProblems(cert: X509Certificate, now: Date = new Date()): string[] {
  const problems: string[] = []
  if (now < cert.validFromDate) problems.push(`the certificate is not valid before ${cert.validFromDate.toISOString()}`)
  if (now > cert.validToDate) problems.push(`the certificate expired on ${cert.validToDate.toISOString()}`)
  const key = keyProblem(cert)
  if (key) problems.push(key)
  // Bun reports an empty subject as undefined rather than ''.
  if ((cert.subject ?? '').trim() === '') problems.push('the certificate subject is empty')
  return problems
}
