import {backoffDelay, jitter, type Rng} from './backoff.ts'
import {downtimeEnd, inDowntime, isPollingAllowed, nextPollingStart, type WindowConfig} from './windows.ts'

export interface PlannerConfig extends WindowConfig {
  pollIntervalMs: number
}

export interface PollState {
  /** When the last poll was attempted, whether it succeeded or not. */
  lastPollAt: Date | null
  /** Consecutive failed polls outside downtime; 0 after a success. */
  failures: number
  retryAfterMs?: number | null
}

export type WakeReason = 'poll' | 'retry' | 'downtime-end' | 'period-start'

export interface Wake {
  at: Date
  reason: WakeReason
}

/** A floor on the interval, so a configuration of 0 cannot become a busy loop. */
export const MIN_POLL_INTERVAL_MS = 1000
/** How far past a downtime end or period start wakes are spread, at most. */
export const MAX_RESUME_SPREAD_MS = 60_000

/**
 * When to poll next (spec §7, CL-34). The wanted time comes from the state: now for the
 * first poll, the back-off after failures, else the interval with ±10% jitter from the last
 * poll. It is then moved forward out of any downtime (no requests and no retries inside,
 * whatever Retry-After said) and into a polling period, repeatedly, since leaving one can
 * land in the other. A wake moved to a downtime end or period start is spread by up to
 * 10% of the interval (at most a minute), because every device with the same schedule
 * would otherwise call at the same second.
 */
export function nextWake(now: Date, cfg: PlannerConfig, state: PollState, rng: Rng = Math.random): Wake {
  const interval = Math.max(MIN_POLL_INTERVAL_MS, cfg.pollIntervalMs)
  const from = state.lastPollAt ?? now
  let at: number
  let reason: WakeReason
  if (state.failures > 0) {
    at = from.getTime() + backoffDelay(state.failures, {capMs: interval, retryAfterMs: state.retryAfterMs ?? null, rng})
    reason = 'retry'
  } else {
    at = state.lastPollAt === null ? now.getTime() : state.lastPollAt.getTime() + jitter(interval, rng)
    reason = 'poll'
  }
  at = Math.max(at, now.getTime())

  let moved = false
  for (let i = 0; i < 16; i++) {
    const t = new Date(at)
    const end = downtimeEnd(t, cfg)
    if (end !== null) {
      at = end.getTime()
      reason = 'downtime-end'
      moved = true
      continue
    }
    if (!isPollingAllowed(t, cfg)) {
      at = nextPollingStart(t, cfg).getTime()
      reason = 'period-start'
      moved = true
      continue
    }
    break
  }

  if (moved) {
    const spread = Math.round(rng() * Math.min(interval * 0.1, MAX_RESUME_SPREAD_MS))
    const later = new Date(at + spread)
    if (!inDowntime(later, cfg) && isPollingAllowed(later, cfg)) at = later.getTime()
  }
  return {at: new Date(at), reason}
}

/**
 * Whether a poll may be made now. A wake computed earlier is checked with this before
 * acting, because the configuration may have changed since, and a downtime longer than the
 * search horizon yields a wake that is still inside it (nextWake then simply plans again).
 */
export function mayPoll(now: Date, cfg: WindowConfig): boolean {
  return !inDowntime(now, cfg) && isPollingAllowed(now, cfg)
}

/**
 * Whether queued status reports may be sent now: anywhere outside downtime, including
 * outside the polling period, so the WFM learns of state changes without waiting for the
 * next period (§7).
 */
export function mayFlushOutbox(now: Date, cfg: WindowConfig): boolean {
  return !inDowntime(now, cfg)
}
