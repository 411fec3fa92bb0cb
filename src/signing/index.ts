export {contentDigest, checkContentDigest, type DigestCheck} from './digest.ts'
export {
  ALGORITHMS,
  SIGNATURE_ALGORITHMS,
  algorithmMatchesKey,
  candidateAlgorithms,
  defaultAlgorithm,
  isSignatureAlgorithm,
  signBytes,
  verifyBytes,
  type SignatureAlgorithm,
} from './algorithms.ts'
export {signRequest, type RequestSigner, type SignableRequest, type SignatureHeaders} from './sign.ts'
export {
  signatureBaseFor,
  verifyRequest,
  type VerifiableRequest,
  type VerifyFailureReason,
  type VerifyOptions,
  type VerifyResult,
} from './verify.ts'
export {
  describeKey,
  generateKeyPair,
  loadPrivateKey,
  loadPublicKey,
  privateKeyToPem,
  publicKeyToPem,
  spkiSha256Hex,
  type KeyDescription,
  type KeyPair,
  type KeyType,
  type KeyTypeName,
} from './keys.ts'
