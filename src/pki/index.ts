export {certificateFingerprint, certificateToBase64Der, derToPem, parseCertificate, type ParsedCertificate} from './parse.ts'
export {certificatePolicyProblems} from './policy.ts'
export {
  createCertificateAuthority,
  createSelfSignedDeviceCertificate,
  issueServerCertificate,
  type CaKeyType,
  type CertificateAndKey,
} from './issue.ts'
