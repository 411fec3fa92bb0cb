import canonicalize from 'canonicalize'
import {sha256Digest} from '../../margo/digest.ts'
import type {StateManifest} from '../../margo/manifest.ts'
import {BUNDLE_MEDIA_TYPE} from '../../margo/media-types.ts'
import {isUuid} from '../../margo/uuid.ts'

export interface RenderManifestInput {
  clientId: string
  manifestVersion: number
  deployments: readonly {deploymentId: string, yaml: Uint8Array}[]
  /** The bundle built from exactly these deployments, or null when there are none. */
  bundle: {bytes: Uint8Array} | null
  /** Put in front of every `url`. Empty by default: urls are relative to the API root the device was configured with. */
  urlPrefix?: string
}

export interface RenderedManifest {
  /** The body to serve, byte for byte, on every request until the next manifest. */
  bytes: Uint8Array
  /** `"sha256:<hex>"`: the strong validator of exactly `bytes`. */
  etag: string
  digest: string
}

/**
 * Serializes a client's State Manifest once, as RFC 8785 canonical JSON, so one logical
 * manifest always has one byte sequence and one ETag. Deployments are listed by
 * deploymentId. Digests are computed here from the bytes that will be served, which is
 * what keeps the Exact Bytes Rule true by construction.
 */
export function renderManifest(input: RenderManifestInput): RenderedManifest {
  const {clientId, manifestVersion, deployments, bundle} = input
  const prefix = input.urlPrefix ?? ''
  if (!Number.isSafeInteger(manifestVersion) || manifestVersion < 1) throw new Error(`manifestVersion must be a safe integer >= 1, got ${manifestVersion}`)
  if ((bundle === null) !== (deployments.length === 0)) throw new Error('bundle must be null exactly when there are no deployments')
  const seen = new Set<string>()
  for (const d of deployments) {
    if (!isUuid(d.deploymentId)) throw new Error(`deploymentId is not a UUID: ${JSON.stringify(d.deploymentId)}`)
    if (seen.has(d.deploymentId.toLowerCase())) throw new Error(`deployment ${d.deploymentId} appears twice`)
    seen.add(d.deploymentId.toLowerCase())
  }
  const base = `${prefix}/api/v1/clients/${encodeURIComponent(clientId)}`

  const manifest: StateManifest = {
    manifestVersion,
    bundle: bundle && (() => {
      const digest = sha256Digest(bundle.bytes)
      return {mediaType: BUNDLE_MEDIA_TYPE, digest, sizeBytes: bundle.bytes.length, url: `${base}/bundles/${digest}`}
    })(),
    deployments: [...deployments]
      .sort((a, b) => (a.deploymentId < b.deploymentId ? -1 : a.deploymentId > b.deploymentId ? 1 : 0))
      .map(d => {
        const digest = sha256Digest(d.yaml)
        return {
          deploymentId: d.deploymentId,
          digest,
          sizeBytes: d.yaml.length,
          url: `${base}/deployments/${encodeURIComponent(d.deploymentId)}/${digest}`,
        }
      }),
  }
  const text = canonicalize(manifest)
  if (text === undefined) throw new Error('manifest could not be serialized')
  const bytes = new TextEncoder().encode(text)
  const digest = sha256Digest(bytes)
  return {bytes, etag: `"${digest}"`, digest}
}
