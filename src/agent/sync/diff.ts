import type {DeploymentRef, StateManifest} from '../../margo/manifest.ts'

export interface ManifestDiff {
  /** In `next` only: fetch and apply. */
  added: DeploymentRef[]
  /** In both with a different digest: fetch and apply the new version. */
  updated: DeploymentRef[]
  /** Ids in `previous` only: remove. Absence is the only removal signal (CL-24, §2.6). */
  removed: string[]
  /** Same id, same digest: leave alone. */
  unchanged: DeploymentRef[]
}

/**
 * Compares the previously accepted manifest with a newly accepted one, keyed by deploymentId
 * (UUIDs, compared case-insensitively as the manifest parser does). Digests are compared as
 * strings: the parser only admits the one lowercase form. Output keeps `next`'s order so
 * deployments are applied in the order the WFM listed them.
 */
export function diffManifests(previous: StateManifest | null, next: StateManifest): ManifestDiff {
  const before = new Map<string, DeploymentRef>()
  for (const ref of previous?.deployments ?? []) before.set(ref.deploymentId.toLowerCase(), ref)

  const diff: ManifestDiff = {added: [], updated: [], removed: [], unchanged: []}
  const seen = new Set<string>()
  for (const ref of next.deployments) {
    const key = ref.deploymentId.toLowerCase()
    seen.add(key)
    const old = before.get(key)
    if (old === undefined) diff.added.push(ref)
    else if (old.digest !== ref.digest) diff.updated.push(ref)
    else diff.unchanged.push(ref)
  }
  for (const [key, ref] of before) if (!seen.has(key)) diff.removed.push(ref.deploymentId)
  return diff
}
