import {constants, sign, verify, type KeyObject, type SignKeyObjectInput, type VerifyKeyObjectInput} from 'node:crypto'

/**
 * RFC 9421 algorithm names accepted by Margo. `rsa-pss-sha256` is Margo's own name (it is not in
 * the IANA registry); it is RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt, mirroring how
 * the registry defines `rsa-pss-sha512` (SHA-512, MGF1-SHA-512, 64-byte salt).
 */
export type SignatureAlgorithm =
  | 'ecdsa-p256-sha256'
  | 'ecdsa-p384-sha384'
  | 'rsa-v1_5-sha256'
  | 'rsa-pss-sha256'
  | 'rsa-pss-sha512'
  | 'ed25519'

interface AlgorithmSpec {
  /** Digest handed to node:crypto; null for Ed25519, which hashes internally. */
  hash: 'sha256' | 'sha384' | 'sha512' | null
  keyTypes: readonly string[]
  /** For ECDSA the curve is part of the algorithm, not only of the key. */
  curve?: string
  padding?: number
  saltLength?: number
  /** RFC 9421 §3.3.4/§3.3.5: ECDSA signatures are the fixed-width r||s concatenation, not DER. */
  dsaEncoding?: 'ieee-p1363'
}

export const ALGORITHMS: Readonly<Record<SignatureAlgorithm, AlgorithmSpec>> = {
  'ecdsa-p256-sha256': {hash: 'sha256', keyTypes: ['ec'], curve: 'prime256v1', dsaEncoding: 'ieee-p1363'},
  'ecdsa-p384-sha384': {hash: 'sha384', keyTypes: ['ec'], curve: 'secp384r1', dsaEncoding: 'ieee-p1363'},
  'rsa-v1_5-sha256': {hash: 'sha256', keyTypes: ['rsa'], padding: constants.RSA_PKCS1_PADDING},
  'rsa-pss-sha256': {hash: 'sha256', keyTypes: ['rsa', 'rsa-pss'], padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32},
  'rsa-pss-sha512': {hash: 'sha512', keyTypes: ['rsa', 'rsa-pss'], padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64},
  'ed25519': {hash: null, keyTypes: ['ed25519']},
}

export const SIGNATURE_ALGORITHMS = Object.keys(ALGORITHMS) as SignatureAlgorithm[]

export function isSignatureAlgorithm(value: unknown): value is SignatureAlgorithm {
  return typeof value === 'string' && Object.hasOwn(ALGORITHMS, value)
}

/** A key's type and curve. `asymmetricKeyDetails` builds a new object on every read; a server verifying every poll reads them once per key. */
const shapes = new WeakMap<KeyObject, {type: string | undefined, curve: string | undefined}>()
function keyShape(key: KeyObject) {
  let shape = shapes.get(key)
  if (!shape) {
    shape = {type: key.type === 'secret' ? undefined : key.asymmetricKeyType, curve: key.type === 'secret' ? undefined : key.asymmetricKeyDetails?.namedCurve}
    shapes.set(key, shape)
  }
  return shape
}

/** Whether `key` (public or private) can produce or check signatures of `alg`. */
export function algorithmMatchesKey(alg: SignatureAlgorithm, key: KeyObject): boolean {
  const spec = ALGORITHMS[alg]
  const {type, curve} = keyShape(key)
  if (!type || !spec.keyTypes.includes(type)) return false
  return spec.curve === undefined || curve === spec.curve
}

/**
 * Algorithms to try when a signature carries no `alg`. RSA keys cannot tell which padding was
 * used, so every RSA scheme is tried, starting with `rsa-pss-sha512` because that is what the
 * widely deployed Go signer emits for RSA keys.
 */
export function candidateAlgorithms(publicKey: KeyObject): SignatureAlgorithm[] {
  const {type, curve} = keyShape(publicKey)
  switch (type) {
    case 'ec':
      if (curve === 'prime256v1') return ['ecdsa-p256-sha256']
      if (curve === 'secp384r1') return ['ecdsa-p384-sha384']
      return []
    case 'rsa': return ['rsa-pss-sha512', 'rsa-v1_5-sha256', 'rsa-pss-sha256']
    case 'rsa-pss': return ['rsa-pss-sha512', 'rsa-pss-sha256']
    case 'ed25519': return ['ed25519']
    default: return []
  }
}

/**
 * What our own signer uses for a key. For RSA this is `rsa-v1_5-sha256`: it is on Margo's
 * mandatory list, deterministic, and every verifier in the ecosystem accepts it, whereas
 * `rsa-pss-sha512` is optional for Margo servers and `rsa-pss-sha256` is unknown outside Margo.
 * Throws for keys Margo cannot sign with (local configuration, not peer input).
 */
export function defaultAlgorithm(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return 'rsa-v1_5-sha256'
  if (key.asymmetricKeyType === 'rsa-pss') return 'rsa-pss-sha256'
  const [first] = candidateAlgorithms(key)
  if (!first) throw new Error(`no Margo signature algorithm for a ${key.asymmetricKeyType ?? key.type} key`)
  return first
}

export function signBytes(alg: SignatureAlgorithm, privateKey: KeyObject, data: Uint8Array): Buffer {
  if (!algorithmMatchesKey(alg, privateKey)) {
    throw new Error(`algorithm ${alg} cannot be used with a ${privateKey.asymmetricKeyType ?? privateKey.type} key`)
  }
  const spec = ALGORITHMS[alg]
  const options: SignKeyObjectInput = {key: privateKey}
  if (spec.padding !== undefined) options.padding = spec.padding
  if (spec.saltLength !== undefined) options.saltLength = spec.saltLength
  if (spec.dsaEncoding) options.dsaEncoding = spec.dsaEncoding
  return sign(spec.hash, data, options)
}

/**
 * Never throws: a signature is attacker-controlled input. PSS salt length is auto-detected on
 * verification because the salt length is not a security parameter for the verifier and signers
 * differ (Go's default salt is the maximum length, not the hash length).
 */
export function verifyBytes(alg: SignatureAlgorithm, publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (!algorithmMatchesKey(alg, publicKey)) return false
  const spec = ALGORITHMS[alg]
  const options: VerifyKeyObjectInput = {key: publicKey}
  if (spec.padding !== undefined) options.padding = spec.padding
  if (spec.saltLength !== undefined) options.saltLength = constants.RSA_PSS_SALTLEN_AUTO
  if (spec.dsaEncoding) options.dsaEncoding = spec.dsaEncoding
  try {
    return verify(spec.hash, data, options, signature)
  } catch {
    return false
  }
}
