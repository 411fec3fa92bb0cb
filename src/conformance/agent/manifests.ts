import {createHash} from 'node:crypto'
import {parseApplicationDeployment} from '../../margo/deployment.ts'
import {bundleOf, manifestBytes, manifestOf, sha256Of} from './encoding.ts'
import type {ServedManifest} from './model.ts'
import type {PlannedDeployment, StepPlan} from './timeline.ts'

export interface Artifact {
  kind: 'bundle' | 'yaml'
  bytes: Uint8Array
  /** The digest exactly as the URL names it: what the ETag carries. */
  digest: string
  deploymentId?: string
}

export interface RenderedStep {
  /** The manifest body, byte for byte. */
  bytes: Uint8Array
  served: ServedManifest
  /** Everything the manifest points at, by its relative URL. */
  artifacts: Map<string, Artifact>
}

/**
 * The ApplicationDeployment a suite template describes: `{{deploymentId}}` and
 * `{{packageLocation}}` filled in, nothing else touched, so the document has exactly the
 * shape the suite's mock serves (no applicationId, no parameters, `appPackageRef`).
 */
export function deploymentYaml(template: string, deploymentId: string, packageLocation: string): Uint8Array {
  return new TextEncoder().encode(template.replaceAll('{{deploymentId}}', deploymentId).replaceAll('{{packageLocation}}', packageLocation))
}

/** Where a planned deployment's compose file lives on the mock; a new revision is a new URL, hence new YAML bytes. */
export function packageLocation(origin: string, basePath: string, p: PlannedDeployment): string {
  const url = `${origin}${basePath}/sample-apps/${p.app}/compose.yaml`
  return p.revision > 1 ? `${url}?revision=${p.revision}` : url
}

function componentNames(yaml: Uint8Array): string[] {
  const parsed = parseApplicationDeployment(new TextDecoder().decode(yaml))
  return parsed.ok ? parsed.value.spec.deploymentProfile.components.map(c => c.name) : []
}

/** A digest that is well formed but names other bytes than the ones served. */
function wrongDigest(bytes: Uint8Array): string {
  return sha256Of(Buffer.concat([Buffer.from(bytes), Buffer.from('\n# not these bytes\n')]))
}

function sha512Digest(bytes: Uint8Array): string {
  return `sha512:${createHash('sha512').update(bytes).digest('hex')}`
}

function replaceDigestInUrl(url: string, from: string, to: string): string {
  return url.endsWith(from) ? url.slice(0, url.length - from.length) + to : url
}

/**
 * One step's State Manifest for one client, encoded by the mock's own encoder (never the
 * server's, so a byte-level bug there cannot hide here); a negative fixture starts from a good
 * manifest and breaks exactly what the suite's mock breaks:
 * - `unsupported_digest_algorithm`: every digest becomes a `sha512:` digest (of the right bytes);
 * - `bundle_digest_mismatch`: the bundle digest names other bytes;
 * - `deployment_digest_mismatch`: the deployments marked `tampered` name other bytes;
 * - `non_increasing_manifest_version`: the version the plan gives (lower than before);
 * - `wrong_size_bytes`: every `sizeBytes` is 1 (which must not matter).
 * The ETag is always the spec's `"sha256:<hex>"` of the exact body served.
 */
export function renderStep(plan: StepPlan, clientId: string, yamlOf: (p: PlannedDeployment) => Uint8Array): RenderedStep {
  const entries = plan.deployments.map(p => ({plan: p, deploymentId: p.deploymentId, yaml: yamlOf(p)}))
  const bundleBytes = entries.length > 0 ? bundleOf(entries) : null
  const manifest = manifestOf(clientId, plan.manifestVersion, entries, bundleBytes)
  const artifacts = new Map<string, Artifact>()

  if (manifest.bundle && bundleBytes) {
    const b = manifest.bundle
    if (plan.fixture === 'unsupported_digest_algorithm' || plan.fixture === 'bundle_digest_mismatch') {
      const digest = plan.fixture === 'unsupported_digest_algorithm' ? sha512Digest(bundleBytes) : wrongDigest(bundleBytes)
      b.url = replaceDigestInUrl(b.url, b.digest, digest)
      b.digest = digest
    }
    if (plan.fixture === 'wrong_size_bytes') b.sizeBytes = 1
    artifacts.set(b.url, {kind: 'bundle', bytes: bundleBytes, digest: b.digest})
  }
  for (const ref of manifest.deployments) {
    const entry = entries.find(e => e.deploymentId === ref.deploymentId)!
    let digest = ref.digest
    if (plan.fixture === 'unsupported_digest_algorithm') digest = sha512Digest(entry.yaml)
    if (plan.fixture === 'deployment_digest_mismatch' && entry.plan.tampered) digest = wrongDigest(entry.yaml)
    ref.url = replaceDigestInUrl(ref.url, ref.digest, digest)
    ref.digest = digest
    if (plan.fixture === 'wrong_size_bytes') ref.sizeBytes = 1
    artifacts.set(ref.url, {kind: 'yaml', bytes: entry.yaml, digest, deploymentId: ref.deploymentId})
  }

  const bytes = manifestBytes(manifest)
  return {
    bytes,
    artifacts,
    served: {
      manifestVersion: manifest.manifestVersion,
      etag: `"${sha256Of(bytes)}"`,
      bundleUrl: manifest.bundle?.url ?? null,
      deployments: manifest.deployments.map(ref => {
        const entry = entries.find(e => e.deploymentId === ref.deploymentId)!
        return {label: entry.plan.label, deploymentId: ref.deploymentId, digest: ref.digest, url: ref.url, components: componentNames(entry.yaml)}
      }),
    },
  }
}
