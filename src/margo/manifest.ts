import {Issues, describe, isRecord, quote, readArray, type Json} from './check.ts'
import {parseDigest} from './digest.ts'
import {BUNDLE_MEDIA_TYPE} from './media-types.ts'
import {joinPath, type Result} from './result.ts'
import {isUuid} from './uuid.ts'

export interface BundleRef {
  mediaType: typeof BUNDLE_MEDIA_TYPE
  digest: string
  /** Advisory only; never an integrity check. */
  sizeBytes?: number
  url: string
}

export interface DeploymentRef {
  deploymentId: string
  digest: string
  /** Advisory only; never an integrity check. */
  sizeBytes?: number
  url: string
}

/** The State Manifest (`application/vnd.margo.manifest.v1+json`). */
export interface StateManifest {
  manifestVersion: number
  bundle: BundleRef | null
  deployments: DeploymentRef[]
}

/** The message of every error caused by a digest algorithm other than sha256; such a manifest must be abandoned as a whole. */
export const UNSUPPORTED_DIGEST_ALGORITHM = 'unsupported digest algorithm'

/** True when the failure includes an unsupported digest algorithm. */
export function hasUnsupportedDigest(errors: readonly {message: string}[]): boolean {
  return errors.some(e => e.message === UNSUPPORTED_DIGEST_ALGORITHM)
}

type SourceReviver = (this: unknown, key: string, value: unknown, context?: {source?: string}) => unknown

/**
 * Validates a State Manifest body as received. `manifestVersion` is an unsigned 64-bit
 * counter on the wire but a JavaScript number here, so a version above
 * Number.MAX_SAFE_INTEGER is rejected rather than silently rounded (the rollback check
 * would otherwise compare the wrong number); the literal text is inspected so rounding
 * cannot hide it. `sizeBytes` is advisory, so an unusable value is dropped, not an error.
 */
export function parseStateManifest(bodyText: string): Result<StateManifest> {
  // Each `manifestVersion` literal as written, keyed by the object holding it: only the
  // top-level one matters, and which object that is becomes known after parsing.
  const literals = new Map<unknown, string>()
  const reviver: SourceReviver = function (key, value, context) {
    if (key === 'manifestVersion' && context?.source !== undefined) literals.set(this, context.source)
    return value
  }
  let json: unknown
  try {
    json = JSON.parse(bodyText, reviver as Parameters<typeof JSON.parse>[1])
  } catch {
    return {ok: false, errors: [{field: '', message: 'is not valid JSON'}]}
  }
  const versionSource = literals.get(json)
  if (!isRecord(json)) return {ok: false, errors: [{field: '', message: `must be a JSON object, got ${describe(json)}`}]}

  const issues = new Issues()
  const manifestVersion = readVersion(issues, json, versionSource)

  let bundle: BundleRef | null | undefined
  if (!('bundle' in json)) issues.add('bundle', 'is required (null when there are no deployments)')
  else if (json.bundle === null) bundle = null
  else if (!isRecord(json.bundle)) issues.add('bundle', `must be an object or null, got ${describe(json.bundle)}`)
  else bundle = readBundle(issues, json.bundle)

  const deployments: DeploymentRef[] = []
  const seen = new Set<string>()
  readArray(issues, json, 'deployments', '')?.forEach((entry, i) => {
    const at = joinPath('deployments', i)
    if (!isRecord(entry)) {
      issues.add(at, `must be an object, got ${describe(entry)}`)
      return
    }
    const deploymentId = entry.deploymentId
    let idOk = false
    if (!isUuid(deploymentId)) issues.add(joinPath(at, 'deploymentId'), `must be a UUID, got ${quote(deploymentId)}`)
    else if (seen.has(deploymentId.toLowerCase())) issues.add(joinPath(at, 'deploymentId'), `duplicates an earlier entry: ${deploymentId}`)
    else idOk = true
    if (typeof deploymentId === 'string') seen.add(deploymentId.toLowerCase())
    const digest = readDigest(issues, entry, at)
    const url = readUrl(issues, entry, at)
    if (idOk && digest !== undefined && url !== undefined) deployments.push(withSize({deploymentId: deploymentId as string, digest, url}, entry))
  })

  if (bundle === null && deployments.length > 0) issues.add('bundle', 'must not be null when deployments is not empty')
  if (bundle && Array.isArray(json.deployments) && json.deployments.length === 0) issues.add('bundle', 'must be null when deployments is empty')

  return issues.result(() => ({manifestVersion: manifestVersion!, bundle: bundle!, deployments}))
}

function readVersion(issues: Issues, json: Json, source: string | undefined): number | undefined {
  const value = json.manifestVersion
  if (value === undefined) {
    issues.add('manifestVersion', 'is required')
    return undefined
  }
  if (typeof value !== 'number') {
    issues.add('manifestVersion', `must be an integer, got ${describe(value)}`)
    return undefined
  }
  const literal = source ?? String(value)
  if (!/^\d+$/.test(literal) || !Number.isSafeInteger(value) || value < 1) {
    issues.add('manifestVersion', `must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got ${literal}`)
    return undefined
  }
  return value
}

function readBundle(issues: Issues, bundle: Json): BundleRef | undefined {
  let ok = true
  if (bundle.mediaType !== BUNDLE_MEDIA_TYPE) {
    issues.add('bundle.mediaType', `must be '${BUNDLE_MEDIA_TYPE}', got ${quote(bundle.mediaType)}`)
    ok = false
  }
  const digest = readDigest(issues, bundle, 'bundle')
  const url = readUrl(issues, bundle, 'bundle')
  if (!ok || digest === undefined || url === undefined) return undefined
  return withSize<BundleRef>({mediaType: BUNDLE_MEDIA_TYPE, digest, url}, bundle)
}

function readDigest(issues: Issues, parent: Json, path: string): string | undefined {
  const at = joinPath(path, 'digest')
  const value = parent.digest
  if (typeof value !== 'string') {
    issues.add(at, value === undefined ? 'is required' : `must be a string, got ${describe(value)}`)
    return undefined
  }
  const parsed = parseDigest(value)
  if (parsed.ok) return value
  issues.add(at, parsed.reason === 'unsupported-algorithm' ? UNSUPPORTED_DIGEST_ALGORITHM : `must be 'sha256:' followed by 64 lowercase hex digits, got ${quote(value)}`)
  return undefined
}

function readUrl(issues: Issues, parent: Json, path: string): string | undefined {
  const at = joinPath(path, 'url')
  const value = parent.url
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) {
    issues.add(at, value === undefined ? 'is required' : `must be a server-relative path starting with '/', got ${quote(value)}`)
    return undefined
  }
  return value
}

function withSize<T extends object>(ref: T, source: Json): T & {sizeBytes?: number} {
  const size = source.sizeBytes
  return typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? {...ref, sizeBytes: size} : ref
}
