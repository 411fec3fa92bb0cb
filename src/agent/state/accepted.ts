import {sha256Digest} from '../../margo/digest.ts'
import {parseStateManifest, type StateManifest} from '../../margo/manifest.ts'
import {etagDigest} from '../sync/manifest-check.ts'
import {ACCEPTED_FILE, type StateStore} from './state-dir.ts'

/** What accepted.json holds. */
export interface AcceptedRecord {
  manifestVersion: number
  /** Sent as If-None-Match; the manifest's ETag as received. */
  etag: string
  /** The exact manifest body. */
  text: string
  acceptedAt: string
}

export interface Accepted extends AcceptedRecord {
  /** `text` parsed, for the next diff. */
  manifest: StateManifest
}

function isRecordShape(v: unknown): v is AcceptedRecord {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Record<string, unknown>
  return Number.isSafeInteger(r.manifestVersion) && typeof r.etag === 'string' && typeof r.text === 'string' && typeof r.acceptedAt === 'string'
}

/**
 * The last accepted manifest, or null on first start. The stored text is parsed again and
 * must agree with the stored version and (for a digest ETag) hash to it; otherwise the file
 * is moved aside and the device behaves as if nothing had been accepted (A4 a), which the
 * WFM's next manifest then settles.
 */
export function loadAccepted(sd: StateStore): Accepted | null {
  const record = sd.readJson(ACCEPTED_FILE, isRecordShape)
  if (record === null) return null
  const parsed = parseStateManifest(record.text)
  const digest = etagDigest(record.etag)
  if (!parsed.ok || parsed.value.manifestVersion !== record.manifestVersion || (digest !== null && digest !== sha256Digest(record.text))) {
    sd.quarantine(ACCEPTED_FILE)
    return null
  }
  return {...record, manifest: parsed.value}
}

/** Durable before it returns (CL-27). */
export function saveAccepted(sd: StateStore, accepted: {manifestVersion: number, etag: string, text: string}, now: Date = new Date()): AcceptedRecord {
  const record: AcceptedRecord = {manifestVersion: accepted.manifestVersion, etag: accepted.etag, text: accepted.text, acceptedAt: now.toISOString()}
  sd.writeJson(ACCEPTED_FILE, record)
  return record
}
