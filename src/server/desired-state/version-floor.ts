/**
 * Manifest versions that survive a restore. A device refuses a manifest whose version is not
 * above the one it accepted last, so a server restored from a backup must never issue a version
 * the old server may already have issued after the backup was taken.
 *
 * The bound used: no version ever runs ahead of the wall clock counted in microseconds since the
 * epoch. Versions start at 1 and grow by one per change; after a restore they continue from the
 * restore time in microseconds. As long as a client is issued at most one version per
 * microsecond (a publish is a committed SQLite transaction, far slower than that, and
 * `clockWaitMs` holds the line if it ever were not), every version the old server issued was at
 * most the clock at that moment, hence below the restore time. Microseconds since the epoch stay
 * below Number.MAX_SAFE_INTEGER (2^53-1, inside the specification's unsigned 64-bit range)
 * until the year 2255.
 */
export const VERSIONS_PER_MS = 1000

/** The lowest version a restored server issues to a client it already knew, at `nowMs`. */
export function restoreFloor(nowMs: number): number {
  const floor = Math.floor(nowMs) * VERSIONS_PER_MS
  if (!Number.isSafeInteger(floor) || floor < 1) throw new Error(`the clock (${nowMs} ms since the epoch) gives no usable manifest version floor`)
  return floor
}

/** How long to wait before issuing `version` at `nowMs` so it is not ahead of the clock; 0 nearly always. */
export function clockWaitMs(version: number, nowMs: number): number {
  if (version <= Math.floor(nowMs) * VERSIONS_PER_MS) return 0
  return Math.ceil(version / VERSIONS_PER_MS) - Math.floor(nowMs)
}
