import {createHash, X509Certificate} from 'node:crypto'

export type ParsedCertificate =
  | {ok: true, cert: X509Certificate, der: Uint8Array, pem: string, fingerprint: string}
  | {ok: false, reason: string}

/** Far above any real device certificate; bounds the work spent on hostile input. */
const MAX_INPUT_CHARS = 256 * 1024

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/

function fail(reason: string): ParsedCertificate {
  return {ok: false, reason}
}

export function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64')
  const lines = b64.match(/.{1,64}/g) ?? []
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`
}

/** `sha256:` + lowercase hex of the DER, the identity under which a certificate is stored. */
export function certificateFingerprint(der: Uint8Array): string {
  return `sha256:${createHash('sha256').update(der).digest('hex')}`
}

function fromPemText(text: string): ParsedCertificate {
  const block = PEM_BLOCK.exec(text)
  if (!block) return fail('the PEM text has no complete -----BEGIN/END----- block')
  const label = block[1] as string
  if (label !== 'CERTIFICATE') {
    if (label.includes('PRIVATE KEY')) return fail(`this is a private key (${label}), not a certificate; never send a private key`)
    if (label.includes('REQUEST')) return fail(`this is a certificate signing request (${label}), not a certificate`)
    return fail(`the PEM block is ${label}, expected CERTIFICATE`)
  }
  // Chains are accepted; the leaf comes first by convention.
  const body = (block[2] as string).replace(/\s+/g, '')
  if (!BASE64.test(body)) return fail('the PEM CERTIFICATE block does not contain valid base64')
  return fromDer(new Uint8Array(Buffer.from(body, 'base64')))
}

function fromDer(der: Uint8Array): ParsedCertificate {
  // Every DER certificate is an ASN.1 SEQUENCE (0x30); anything else is not worth parsing.
  if (der[0] !== 0x30) return fail('the decoded bytes are not a DER X.509 certificate (no ASN.1 SEQUENCE)')
  let cert: X509Certificate
  try {
    cert = new X509Certificate(der)
  } catch (err) {
    return fail(`the certificate could not be parsed as X.509: ${(err as Error).message}`)
  }
  const exact = new Uint8Array(cert.raw)
  return {ok: true, cert, der: exact, pem: derToPem(exact), fingerprint: certificateFingerprint(exact)}
}

/**
 * Reads a certificate however a peer sent it: base64 of DER (the Margo wire format), base64 of
 * PEM text, or raw PEM (including a chain, of which the first certificate is taken). Whitespace
 * and line breaks inside base64 are tolerated. Never throws.
 */
export function parseCertificate(input: string): ParsedCertificate {
  if (typeof input !== 'string') return fail('the certificate must be a string')
  if (input.length > MAX_INPUT_CHARS) return fail(`the certificate is larger than ${MAX_INPUT_CHARS} characters`)
  const text = input.trim()
  if (text === '') return fail('the certificate is empty')
  if (text.includes('-----BEGIN')) return fromPemText(text)

  const compact = text.replace(/\s+/g, '')
  let bytes: Buffer
  if (BASE64.test(compact)) bytes = Buffer.from(compact, 'base64')
  else if (BASE64URL.test(compact)) bytes = Buffer.from(compact, 'base64url')
  else return fail('the certificate is neither PEM nor base64 (base64 of DER or of PEM is expected)')
  if (bytes.length === 0) return fail('the certificate is empty after base64 decoding')

  const decodedText = bytes.toString('latin1')
  if (decodedText.includes('-----BEGIN')) return fromPemText(decodedText)
  return fromDer(new Uint8Array(bytes))
}

/** Base64 of the DER: what the agent sends at onboarding and the server publishes as its CA. */
export function certificateToBase64Der(pem: string): string {
  const parsed = parseCertificate(pem)
  if (!parsed.ok) throw new Error(parsed.reason)
  return Buffer.from(parsed.der).toString('base64')
}
