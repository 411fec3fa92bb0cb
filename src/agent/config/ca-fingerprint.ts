import {invalid, type Origin} from './values.ts'

/**
 * `sha256:<64 lowercase hex>` from the ways fingerprints are written: bare hex, `sha256:` hex,
 * colon-separated pairs (`AB:CD:…`), or openssl's `sha256 Fingerprint=AB:CD:…`. Null otherwise.
 */
export function parseCaFingerprint(text: string): string | null {
  const body = text.trim().replace(/^sha-?256(\s+fingerprint)?\s*[:=]\s*/i, '')
  const hex = body.replace(/[:\s]/g, '').toLowerCase()
  return /^[0-9a-f]{64}$/.test(hex) ? `sha256:${hex}` : null
}

/** The caFingerprint setting: a fingerprint in any of the accepted spellings. */
export function caFingerprint(o: Origin, v: unknown): string {
  const accepted = "the SHA-256 fingerprint of the CA certificate, as 'sha256:<64 hex>' or colon-separated hex pairs"
  const fp = typeof v === 'string' ? parseCaFingerprint(v) : null
  if (!fp) throw invalid(o, v, accepted)
  return fp
}
