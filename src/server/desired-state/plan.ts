export interface ManifestEntry {
  deploymentId: string
  digest: string
}

export interface ManifestPlan {
  changed: boolean
  manifestVersion: number
}

function key(e: ManifestEntry): string {
  return `${e.deploymentId.toLowerCase()} ${e.digest}`
}

/**
 * Decides the version of a client's next manifest. The first is 1. A new version, exactly one
 * above the last, is issued only when the set of (deploymentId, digest) pairs differs:
 * order does not matter, and republishing the same set must not make devices re-sync. The
 * counter is refused past Number.MAX_SAFE_INTEGER rather than allowed to lose precision.
 */
export function planManifest(previous: {manifestVersion: number, entries: readonly ManifestEntry[]} | null, next: readonly ManifestEntry[]): ManifestPlan {
  const wanted = new Set(next.map(key))
  const ids = new Set(next.map(e => e.deploymentId.toLowerCase()))
  if (ids.size !== next.length) throw new Error('a manifest cannot list the same deployment twice')
  if (previous === null) return {changed: true, manifestVersion: 1}

  const had = new Set(previous.entries.map(key))
  const same = had.size === wanted.size && [...wanted].every(k => had.has(k))
  if (same) return {changed: false, manifestVersion: previous.manifestVersion}
  if (!Number.isSafeInteger(previous.manifestVersion) || previous.manifestVersion < 1) {
    throw new Error(`stored manifestVersion is not a positive safe integer: ${previous.manifestVersion}`)
  }
  if (previous.manifestVersion >= Number.MAX_SAFE_INTEGER) throw new Error('manifestVersion would exceed Number.MAX_SAFE_INTEGER')
  return {changed: true, manifestVersion: previous.manifestVersion + 1}
}
