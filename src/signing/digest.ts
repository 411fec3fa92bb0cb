import {createHash, timingSafeEqual} from 'node:crypto'
import {parseDictionary} from 'structured-headers'

export type DigestCheck = 'ok' | 'missing' | 'malformed' | 'mismatch'

/** RFC 9530 `Content-Digest` value for exactly these bytes. */
export function contentDigest(body: Uint8Array | string): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`
}

/** Algorithms we recompute. Unknown ones (md5, sha, …) are skipped as RFC 9530 §2 allows. */
const CHECKED = {'sha-256': 'sha256', 'sha-512': 'sha512'} as const

/**
 * Checks `Content-Digest` against the received body. `sha-256` is required because it is the
 * one algorithm the Margo profile mandates; `sha-512` is checked too when sent, so a sender
 * cannot pair one honest digest with one forged digest.
 */
export function checkContentDigest(header: string | null | undefined, body: Uint8Array): DigestCheck {
  if (header === null || header === undefined || header.trim() === '') return 'missing'
  let dict: ReturnType<typeof parseDictionary>
  try {
    dict = parseDictionary(header)
  } catch {
    return 'malformed'
  }
  if (!dict.has('sha-256')) return 'malformed'
  for (const [name, hash] of Object.entries(CHECKED)) {
    const member = dict.get(name)
    if (member === undefined) continue
    const value = member[0]
    if (!(value instanceof ArrayBuffer)) return 'malformed'
    const expected = createHash(hash).update(body).digest()
    const received = new Uint8Array(value)
    if (received.length !== expected.length || !timingSafeEqual(received, expected)) return 'mismatch'
  }
  return 'ok'
}
