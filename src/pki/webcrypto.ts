import type {KeyObject, webcrypto} from 'node:crypto'

/**
 * @peculiar/x509 signs through WebCrypto, while the rest of the product holds node:crypto
 * KeyObjects; these helpers bridge the two through PKCS#8/SPKI DER.
 */
interface WebAlgorithms {
  importParams: webcrypto.AlgorithmIdentifier | webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams
  signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams
}

const CURVES: Record<string, {namedCurve: string, hash: string}> = {
  'prime256v1': {namedCurve: 'P-256', hash: 'SHA-256'},
  'secp384r1': {namedCurve: 'P-384', hash: 'SHA-384'},
}

export function webAlgorithmsFor(key: KeyObject): WebAlgorithms {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? '']
      if (!curve) throw new Error(`unsupported EC curve ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}`)
      return {
        importParams: {name: 'ECDSA', namedCurve: curve.namedCurve},
        signingAlgorithm: {name: 'ECDSA', hash: curve.hash} as webcrypto.EcdsaParams,
      }
    }
    case 'rsa':
      return {
        importParams: {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'},
        signingAlgorithm: {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'} as webcrypto.Algorithm,
      }
    case 'ed25519':
      return {importParams: {name: 'Ed25519'}, signingAlgorithm: {name: 'Ed25519'}}
    default:
      throw new Error(`unsupported key type ${key.asymmetricKeyType ?? key.type} for certificates`)
  }
}

export async function toCryptoKeyPair(privateKey: KeyObject, publicKey: KeyObject): Promise<CryptoKeyPair> {
  const {importParams} = webAlgorithmsFor(publicKey)
  const [priv, pub] = await Promise.all([
    crypto.subtle.importKey('pkcs8', privateKey.export({type: 'pkcs8', format: 'der'}), importParams, false, ['sign']),
    crypto.subtle.importKey('spki', publicKey.export({type: 'spki', format: 'der'}), importParams, true, ['verify']),
  ])
  return {privateKey: priv, publicKey: pub}
}
