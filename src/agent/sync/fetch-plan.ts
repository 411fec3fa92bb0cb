import type {StateManifest} from '../../margo/manifest.ts'
import type {ManifestDiff} from './diff.ts'

export type FetchChoice = 'bundle' | 'individual' | 'none'

export const DEFAULT_BUNDLE_THRESHOLD = 3

/**
 * How to fetch the YAMLs a diff needs (spec §2.5.7). The bundle on initial sync (the spec's
 * SHOULD) or for a change set of at least `bundleThreshold` deployments (one request instead
 * of many); also when its advisory size is below the advisory sizes of the changed YAMLs
 * together. `sizeBytes` only steers this choice: every byte fetched is checked against its
 * digest regardless (CL-22), and a missing size simply does not count as smaller.
 */
export function chooseFetch(diff: ManifestDiff, next: StateManifest, opts: {initialSync: boolean, bundleThreshold?: number}): FetchChoice {
  const changed = [...diff.added, ...diff.updated]
  if (changed.length === 0) return 'none'
  if (next.bundle === null) return 'individual'
  if (opts.initialSync) return 'bundle'
  if (changed.length >= Math.max(1, opts.bundleThreshold ?? DEFAULT_BUNDLE_THRESHOLD)) return 'bundle'
  const bundleSize = next.bundle.sizeBytes
  if (bundleSize !== undefined && changed.every(ref => ref.sizeBytes !== undefined)) {
    const individual = changed.reduce((sum, ref) => sum + ref.sizeBytes!, 0)
    if (bundleSize < individual) return 'bundle'
  }
  return 'individual'
}
