import {createHash, createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject} from 'node:crypto'

/** Key shapes the product generates for device identities and its own CA. */
export type KeyType = 'p256' | 'p384' | 'rsa2048' | 'ed25519'

export interface KeyPair {
  privateKey: KeyObject
  publicKey: KeyObject
}

export function generateKeyPair(type: KeyType): KeyPair {
  switch (type) {
    case 'p256': return generateKeyPairSync('ec', {namedCurve: 'P-256'})
    case 'p384': return generateKeyPairSync('ec', {namedCurve: 'P-384'})
    case 'rsa2048': return generateKeyPairSync('rsa', {modulusLength: 2048})
    case 'ed25519': return generateKeyPairSync('ed25519')
  }
}

const PRIVATE_KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/

/**
 * Reads a PEM private key: PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) or PKCS#1
 * (`RSA PRIVATE KEY`). Files that bundle a certificate and its key are common on devices, so
 * the key block is picked out of whatever else the text holds. Throws on unusable input: the
 * key comes from local configuration, not from a peer.
 */
export function loadPrivateKey(pem: string): KeyObject {
  const block = PRIVATE_KEY_BLOCK.exec(pem)
  if (!block) throw new Error('no PEM private key block (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY) found')
  if (block[1] === 'ENCRYPTED PRIVATE KEY') throw new Error('the private key is encrypted; provide it without a passphrase')
  try {
    return createPrivateKey({key: block[0], format: 'pem'})
  } catch (err) {
    throw new Error(`the private key could not be read: ${(err as Error).message}`)
  }
}

/** PKCS#8 PEM, the one encoding every consumer (node, openssl, Go) reads. */
export function privateKeyToPem(privateKey: KeyObject): string {
  return privateKey.export({type: 'pkcs8', format: 'pem'}).toString()
}

export function publicKeyToPem(publicKey: KeyObject): string {
  return publicKey.export({type: 'spki', format: 'pem'}).toString()
}

/** Accepts an SPKI PEM, a certificate PEM or a private key (whose public half is returned). */
export function loadPublicKey(pem: string): KeyObject {
  if (pem.includes('-----BEGIN CERTIFICATE-----')) return new X509Certificate(pem).publicKey
  if (PRIVATE_KEY_BLOCK.test(pem)) return createPublicKey(loadPrivateKey(pem))
  return createPublicKey({key: pem, format: 'pem'})
}

/**
 * Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo. Several Margo device implementations
 * send this as `keyid`, so tools that imitate them need it. A private key gives its public half's hash.
 */
export function spkiSha256Hex(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  const der = publicKey.export({type: 'spki', format: 'der'})
  return createHash('sha256').update(der).digest('hex')
}

export type KeyTypeName = 'ec-p256' | 'ec-p384' | 'ed25519' | 'ed448' | `rsa-${number}` | `rsa-pss-${number}` | `ec-${string}` | `unknown-${string}`

export interface KeyDescription {
  keyType: KeyTypeName
  bits?: number
}

const CURVE_NAMES: Record<string, {name: KeyTypeName, bits: number}> = {
  'prime256v1': {name: 'ec-p256', bits: 256},
  'P-256': {name: 'ec-p256', bits: 256},
  'secp384r1': {name: 'ec-p384', bits: 384},
  'P-384': {name: 'ec-p384', bits: 384},
}

/** A short, stable label for a key, used in policy messages and device listings. */
export function describeKey(key: KeyObject): KeyDescription {
  const type = key.asymmetricKeyType ?? 'unknown'
  const details = key.asymmetricKeyDetails ?? {}
  switch (type) {
    case 'rsa':
    case 'rsa-pss': {
      const bits = details.modulusLength ?? 0
      return {keyType: type === 'rsa' ? `rsa-${bits}` : `rsa-pss-${bits}`, bits}
    }
    case 'ec': {
      const curve = details.namedCurve ?? 'unknown'
      const known = CURVE_NAMES[curve]
      return known ? {keyType: known.name, bits: known.bits} : {keyType: `ec-${curve}`}
    }
    case 'ed25519': return {keyType: 'ed25519', bits: 256}
    case 'ed448': return {keyType: 'ed448', bits: 456}
    default: return {keyType: `unknown-${type}`}
  }
}
