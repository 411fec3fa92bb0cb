import {sha256Digest, DIGEST_PATTERN} from '../../margo/digest.ts'
import {hasUnsupportedDigest, parseStateManifest, type StateManifest} from '../../margo/manifest.ts'
import {MANIFEST_MEDIA_TYPE} from '../../margo/media-types.ts'

/** What the device last accepted. `text`, when given, lets an opaque ETag still be compared by content. */
export interface StoredManifestRef {
  manifestVersion: number
  etag: string
  text?: string
}

export interface ManifestResponse {
  body: Uint8Array
  etag: string | null
  contentType: string | null
}

export type ManifestRejectCode = 'content-type' | 'integrity' | 'malformed' | 'unsupported-digest' | 'rollback'

export type ManifestDecision =
  | {kind: 'accept', manifest: StateManifest, etag: string, text: string}
  | {kind: 'same'}
  | {kind: 'reject', code: ManifestRejectCode, reason: string, security: boolean}

/**
 * The content digest an ETag carries, or null for an opaque ETag. Servers following the spec
 * send `"sha256:<hex>"`; a weak prefix or missing quotes are tolerated because the value is
 * still the digest.
 */
export function etagDigest(etag: string | null | undefined): string | null {
  if (!etag) return null
  const m = /^\s*(?:W\/)?"?([^"]*)"?\s*$/.exec(etag)
  const inner = m?.[1] ?? ''
  return DIGEST_PATTERN.test(inner) ? inner : null
}

/** The media type without parameters, lowercased. */
function essence(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase()
}

/**
 * Decides what to do with a 200 State Manifest response (spec §2.5.4).
 *
 * - Integrity: when the ETag has the spec's `"sha256:<hex>"` form it must equal the digest of
 *   the raw body, otherwise the body was altered on the way and is refused. Some WFMs use an
 *   opaque ETag of another form; then integrity cannot be checked here and only TLS protects
 *   the body. Without any ETag, the quoted body digest is what will be sent as `If-None-Match`.
 * - Rollback (A4): with nothing stored any version is accepted; the same version with the same
 *   body is a no-op (an intermediary dropped `If-None-Match`), never a security event; anything
 *   else must carry a strictly greater version.
 * - The body is decoded as strict UTF-8 and kept as text; re-encoding that text yields the
 *   exact bytes received, so it can be stored and compared later.
 */
export function evaluateManifest(stored: StoredManifestRef | null, response: ManifestResponse): ManifestDecision {
  if (response.contentType === null || essence(response.contentType) !== MANIFEST_MEDIA_TYPE) {
    return reject('content-type', `Content-Type must be ${MANIFEST_MEDIA_TYPE}, got ${response.contentType === null ? 'none' : JSON.stringify(response.contentType)}`, false)
  }

  const bodyDigest = sha256Digest(response.body)
  const announced = etagDigest(response.etag)
  if (announced !== null && announced !== bodyDigest) {
    return reject('integrity', `body digest ${bodyDigest} does not match ETag ${response.etag}`, true)
  }

  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true}).decode(response.body)
  } catch {
    return reject('malformed', 'manifest body is not valid UTF-8', false)
  }
  const parsed = parseStateManifest(text)
  if (!parsed.ok) {
    if (hasUnsupportedDigest(parsed.errors)) {
      const fields = parsed.errors.filter(e => hasUnsupportedDigest([e])).map(e => e.field)
      return reject('unsupported-digest', `unsupported digest algorithm at ${fields.join(', ')}`, false)
    }
    return reject('malformed', parsed.errors.map(e => (e.field ? `${e.field} ${e.message}` : e.message)).join('; '), false)
  }
  const manifest = parsed.value
  const etag = response.etag?.trim() || `"${bodyDigest}"`

  if (stored === null) return {kind: 'accept', manifest, etag, text}

  if (manifest.manifestVersion === stored.manifestVersion) {
    const storedDigest = etagDigest(stored.etag) ?? (stored.text !== undefined ? sha256Digest(stored.text) : null)
    if (storedDigest === bodyDigest) return {kind: 'same'}
    return reject('rollback', `manifestVersion ${manifest.manifestVersion} equals the accepted version but the body differs`, true)
  }
  if (manifest.manifestVersion < stored.manifestVersion) {
    return reject('rollback', `manifestVersion ${manifest.manifestVersion} is lower than the accepted version ${stored.manifestVersion}`, true)
  }
  return {kind: 'accept', manifest, etag, text}
}

function reject(code: ManifestRejectCode, reason: string, security: boolean): ManifestDecision {
  return {kind: 'reject', code, reason, security}
}
