import type {Key, Signature} from 'openpgp'
import {DriverError} from './errors.ts'

/**
 * Where a package's detached signature is looked for, in order: `<packageLocation>.asc`, then
 * `.sig` (spec A17 leaves the location open). The suffix goes on the path, before any query.
 */
export function signatureLocations(packageLocation: string): string[] {
  const withSuffix = (suffix: string) => {
    try {
      const url = new URL(packageLocation)
      url.pathname += suffix
      return url.toString()
    } catch {
      return packageLocation + suffix
    }
  }
  return [withSuffix('.asc'), withSuffix('.sig')]
}

/** OpenPGP is large and only needed for signed packages: loaded on first use, not at agent start. */
const openpgp = () => import('openpgp')

function looksArmored(bytes: Uint8Array): boolean {
  return new TextDecoder().decode(bytes.subarray(0, 64)).trimStart().startsWith('-----BEGIN PGP')
}

export async function readPublicKeys(bytes: Uint8Array): Promise<Key[]> {
  const {readKeys} = await openpgp()
  try {
    return looksArmored(bytes) ? await readKeys({armoredKeys: new TextDecoder().decode(bytes)}) : await readKeys({binaryKeys: bytes})
  } catch (e) {
    throw new DriverError('PACKAGE_KEY_INVALID', `the key at keyLocation is not an OpenPGP public key: ${(e as Error).message}`)
  }
}

async function readDetachedSignature(bytes: Uint8Array): Promise<Signature> {
  const {readSignature} = await openpgp()
  try {
    return looksArmored(bytes) ? await readSignature({armoredSignature: new TextDecoder().decode(bytes)}) : await readSignature({binarySignature: bytes})
  } catch (e) {
    throw new DriverError('PACKAGE_SIGNATURE_INVALID', `the package signature is not an OpenPGP signature: ${(e as Error).message}`)
  }
}

/**
 * Verifies a detached OpenPGP signature over the exact package bytes. Resolves with the
 * fingerprint of the key that made it; throws PACKAGE_SIGNATURE_INVALID when no signature
 * verifies with the given keys (wrong key, altered package, expired or revoked key).
 */
export async function verifyDetachedSignature(data: Uint8Array, signatureBytes: Uint8Array, keyBytes: Uint8Array): Promise<string> {
  const keys = await readPublicKeys(keyBytes)
  const signature = await readDetachedSignature(signatureBytes)
  const {createMessage, verify} = await openpgp()
  const message = await createMessage({binary: data})
  let result: Awaited<ReturnType<typeof verify>>
  try {
    result = await verify({message, signature, verificationKeys: keys, format: 'binary'})
  } catch (e) {
    throw new DriverError('PACKAGE_SIGNATURE_INVALID', `package signature could not be checked: ${(e as Error).message}`)
  }
  const failures: string[] = []
  for (const s of result.signatures) {
    try {
      await s.verified
      const key = keys.find(k => k.getKeys(s.keyID).length > 0)
      return key ? key.getFingerprint() : s.keyID.toHex()
    } catch (e) {
      failures.push(`${s.keyID.toHex()}: ${(e as Error).message}`)
    }
  }
  throw new DriverError('PACKAGE_SIGNATURE_INVALID', `package signature does not verify with the key from keyLocation${failures.length ? ` (${failures.join('; ')})` : ''}`)
}

/**
 * The whole check for a signed package: fetch the key, fetch the first signature found at the
 * candidate locations, verify. Fails closed: a key that cannot be fetched or read, no signature
 * at any location, or a signature that does not verify all stop the install.
 */
export async function checkPackageSignature(data: Uint8Array, packageLocation: string, keyLocation: string, download: (url: string) => Promise<Uint8Array>): Promise<{signatureLocation: string, fingerprint: string}> {
  let keyBytes: Uint8Array
  try {
    keyBytes = await download(keyLocation)
  } catch (e) {
    throw new DriverError('PACKAGE_KEY_DOWNLOAD_FAILED', `cannot download the signing key from ${keyLocation}: ${(e as Error).message}`)
  }
  const misses: string[] = []
  for (const location of signatureLocations(packageLocation)) {
    let signatureBytes: Uint8Array
    try {
      signatureBytes = await download(location)
    } catch (e) {
      misses.push(`${location}: ${(e as Error).message}`)
      continue
    }
    const fingerprint = await verifyDetachedSignature(data, signatureBytes, keyBytes)
    return {signatureLocation: location, fingerprint}
  }
  throw new DriverError('PACKAGE_SIGNATURE_MISSING', `keyLocation is set but no detached signature was found (${misses.join('; ')})`)
}
