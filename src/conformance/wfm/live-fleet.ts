/**
 * A run with operator access changes what every device of the WFM gets: it rolls out a sample
 * app with an empty selector and adds deny-list entries. So it refuses a WFM that has live
 * devices of its own (enrolled active and not offline by the WFM's liveness thresholds) unless
 * the operator says to go ahead. Devices a conformance run made (fresh keys, the run's own
 * `--cert`) are not the fleet's and do not count.
 */
import {isConformanceSubject} from '../common/identity.ts'
import {DEFAULT_LIVENESS_THRESHOLDS, livenessOf, type LivenessThresholds} from '../../operator-contract/liveness.ts'
import type {Device, LivenessThresholdsView} from '../../operator-contract/views.ts'

export const ALLOW_LIVE_FLEET_FLAG = '--allow-live-fleet'

/** The thresholds the WFM judges with (from its status view), or the defaults when it does not say. */
export function thresholdsOf(view: LivenessThresholdsView | undefined): LivenessThresholds {
  const stale = view?.staleAfterSeconds
  const offline = view?.offlineAfterSeconds
  if (typeof stale !== 'number' || typeof offline !== 'number' || !(stale > 0) || !(offline > stale)) return DEFAULT_LIVENESS_THRESHOLDS
  return {staleAfterMs: stale * 1000, offlineAfterMs: offline * 1000}
}

/** The fleet's devices that are enrolled active and were seen within the offline threshold. */
export function liveDevices(devices: readonly Device[], now: Date, thresholds: LivenessThresholds, ownFingerprints: ReadonlySet<string>): Device[] {
  return devices.filter(d =>
    d.enrollment === 'active'
    && livenessOf(d.lastSeenAt, now, thresholds) !== 'offline'
    && !ownFingerprints.has(d.certificate?.fingerprint)
    && !isConformanceSubject(d.certificate?.subject ?? ''))
}

function span(ms: number): string {
  const minutes = Math.round(ms / 60_000)
  if (minutes >= 60 && minutes % 60 === 0) return minutes === 60 ? 'hour' : `${minutes / 60} hours`
  return minutes >= 1 ? `${minutes} min` : `${Math.round(ms / 1000)} s`
}

/** Why the run must not go on (one line), or null when it may. */
export function liveFleetRefusal(live: readonly Device[], thresholds: LivenessThresholds, allowed: boolean): string | null {
  if (allowed || live.length === 0) return null
  const n = live.length
  return `the WFM has ${n} live device${n === 1 ? '' : 's'} (enrolled active, seen in the last ${span(thresholds.offlineAfterMs)}) that ${n === 1 ? 'is' : 'are'} not this run's, and the run would roll out a sample app to every device and change the deny-list — use a test WFM, or pass ${ALLOW_LIVE_FLEET_FLAG} to run anyway`
}
