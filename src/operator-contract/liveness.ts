/**
 * Whether a device is reachable, judged only from when it last made a signed request.
 *
 * Agents poll every 5 minutes by default (with jitter and back-off), so one missed poll is
 * normal. A device is `online` while it was seen within the stale threshold (default 15 min:
 * three poll periods), `stale` when it missed several polls but less than the offline threshold,
 * and `offline` when it has not been seen for the offline threshold (default 1 h: twelve poll
 * periods, enough to ride out a restart or a short network outage) or never at all.
 *
 * The server judges with the thresholds it was started with and sends them along; a client that
 * has only `lastSeenAt` judges with the defaults.
 */

export type Liveness = 'online' | 'stale' | 'offline'

export interface LivenessThresholds {
  /** Age of the last request after which a device is no longer online. */
  staleAfterMs: number
  /** Age of the last request after which a device counts as offline. */
  offlineAfterMs: number
}

export const DEFAULT_LIVENESS_THRESHOLDS: LivenessThresholds = {
  staleAfterMs: 15 * 60_000,
  offlineAfterMs: 60 * 60_000,
}

/** Thresholds the server can run with: positive, and stale strictly before offline. */
export function checkThresholds(t: Partial<LivenessThresholds> = {}): LivenessThresholds {
  const out = {...DEFAULT_LIVENESS_THRESHOLDS, ...t}
  for (const [name, v] of Object.entries(out)) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number of milliseconds (got ${v})`)
  }
  if (out.staleAfterMs >= out.offlineAfterMs) {
    throw new RangeError(`the stale threshold (${out.staleAfterMs} ms) must be shorter than the offline threshold (${out.offlineAfterMs} ms)`)
  }
  return out
}

export function livenessOf(lastSeenAt: string | Date | null | undefined, now: Date, thresholds: LivenessThresholds = DEFAULT_LIVENESS_THRESHOLDS): Liveness {
  if (!lastSeenAt) return 'offline'
  const seen = typeof lastSeenAt === 'string' ? Date.parse(lastSeenAt) : lastSeenAt.getTime()
  if (Number.isNaN(seen)) return 'offline'
  // A time ahead of ours (clock skew between flush and read) is as fresh as it gets.
  const age = Math.max(0, now.getTime() - seen)
  if (age < thresholds.staleAfterMs) return 'online'
  if (age < thresholds.offlineAfterMs) return 'stale'
  return 'offline'
}
