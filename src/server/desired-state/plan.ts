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

export interface PlanOptions {
  /**
   * The lowest version this client may be issued next (0: none). A restore raises it past any
   * version the server could have issued since the backup was taken (docs/operations.md).
   */
  floor?: number
  /** Issue a new version even when the set is unchanged: a restore re-announces every manifest. */
  force?: boolean
}

/**
 * Decides the version of a client's next manifest. The first is 1. A new version, one above
 * the last (or the client's floor, when that is higher), is issued only when the set of
 * (deploymentId, digest) pairs differs: order does not matter, and republishing the same set
 * must not make devices re-sync. The counter is refused past Number.MAX_SAFE_INTEGER rather
 * than allowed to lose precision.
 */
export function planManifest(previous: {manifestVersion: number, entries: readonly ManifestEntry[]} | null, next: readonly ManifestEntry[], options: PlanOptions = {}): ManifestPlan {
  const wanted = new Set(next.map(key))
  const ids = new Set(next.map(e => e.deploymentId.toLowerCase()))
  if (ids.size !== next.length) throw new Error('a manifest cannot list the same deployment twice')
  const floor = options.floor ?? 0
  if (!Number.isSafeInteger(floor) || floor < 0) throw new Error(`manifest version floor is not a safe integer >= 0: ${floor}`)
  if (previous === null) return {changed: true, manifestVersion: Math.max(1, floor)}

  const had = new Set(previous.entries.map(key))
  const same = had.size === wanted.size && [...wanted].every(k => had.has(k))
  if (same && !options.force) return {changed: false, manifestVersion: previous.manifestVersion}
  if (!Number.isSafeInteger(previous.manifestVersion) || previous.manifestVersion < 1) {
    throw new Error(`stored manifestVersion is not a positive safe integer: ${previous.manifestVersion}`)
  }
  if (previous.manifestVersion >= Number.MAX_SAFE_INTEGER) throw new Error('manifestVersion would exceed Number.MAX_SAFE_INTEGER')
  return {changed: true, manifestVersion: Math.max(previous.manifestVersion + 1, floor)}
}
