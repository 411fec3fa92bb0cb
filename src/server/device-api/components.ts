import {parseApplicationDeployment} from '../../margo/deployment.ts'
import type {Store} from '../store/store.ts'
import {deploymentDigests} from '../store/status-repo.ts'

/** Component names by deployment digest. Content-addressed, so an entry never goes stale. */
const namesByDigest = new Map<string, readonly string[] | null>()
const CACHE_ENTRIES = 4096

function componentNames(store: Store, digest: string): readonly string[] | null {
  if (namesByDigest.has(digest)) return namesByDigest.get(digest)!
  const artifact = store.getArtifact(digest)
  const parsed = artifact ? parseApplicationDeployment(new TextDecoder().decode(artifact.bytes)) : null
  const names = parsed?.ok ? parsed.value.spec.deploymentProfile.components.map(c => c.name) : null
  // An artifact not (or no longer) stored is not remembered: it is not a fact about the digest.
  if (artifact) {
    if (namesByDigest.size >= CACHE_ENTRIES) namesByDigest.delete(namesByDigest.keys().next().value!)
    namesByDigest.set(digest, names)
  }
  return names
}

/**
 * The component names of each version of a deployment the client may be reporting on, newest
 * first; versions whose document the server no longer holds are left out.
 */
export function componentVersions(store: Store, clientId: string, deploymentId: string, currentDigest: string): string[][] {
  return deploymentDigests(store, clientId, deploymentId, currentDigest)
    .map(digest => componentNames(store, digest))
    .filter((names): names is string[] => names !== null)
}
