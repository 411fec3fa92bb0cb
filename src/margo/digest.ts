import {createHash, timingSafeEqual} from 'node:crypto'

/** The only form the WFM emits and the only algorithm accepted: `sha256:` plus 64 lowercase hex digits. */
export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/

/** The grammar `algorithm ":" encoded`, both lowercase, so a well-formed digest of another algorithm can be told apart from garbage. */
const DIGEST_GRAMMAR = /^([a-z0-9_-]+):([0-9a-f]+)$/

export type ParsedDigest = {ok: true, algorithm: 'sha256', hex: string} | {ok: false, reason: 'malformed' | 'unsupported-algorithm'}

function toBytes(input: Uint8Array | string): Uint8Array {
  return typeof input === 'string' ? new TextEncoder().encode(input) : input
}

/** The content digest of exactly these bytes (strings are hashed as UTF-8). */
export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(toBytes(bytes)).digest('hex')}`
}

export function parseDigest(s: string): ParsedDigest {
  const m = DIGEST_GRAMMAR.exec(s)
  if (!m) return {ok: false, reason: 'malformed'}
  const [, algorithm, hex] = m as unknown as [string, string, string]
  if (algorithm !== 'sha256') return {ok: false, reason: 'unsupported-algorithm'}
  if (hex.length !== 64) return {ok: false, reason: 'malformed'}
  return {ok: true, algorithm: 'sha256', hex}
}

/** True when `bytes` hash to `digest`. The comparison takes the same time wherever the hashes differ. */
export function verifyDigest(bytes: Uint8Array | string, digest: string): boolean {
  const parsed = parseDigest(digest)
  if (!parsed.ok) return false
  const actual = createHash('sha256').update(toBytes(bytes)).digest()
  return timingSafeEqual(actual, Buffer.from(parsed.hex, 'hex'))
}
