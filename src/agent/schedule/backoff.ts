export type Rng = () => number

/** `ms` spread by ±`fraction` so a fleet started together does not poll in lockstep. */
export function jitter(ms: number, rng: Rng = Math.random, fraction = 0.1): number {
  return Math.max(0, Math.round(ms * (1 + fraction * (2 * rng() - 1))))
}

export interface BackoffOptions {
  baseMs?: number
  /** Ceiling of the exponential part; the poll interval, so the next scheduled poll always tries again (§7). */
  capMs: number
  /** From the last response's Retry-After, which the delay never undercuts. */
  retryAfterMs?: number | null
  /** Ceiling on a Retry-After, so a wrong or hostile value cannot silence the device for good. */
  maxRetryAfterMs?: number
  rng?: Rng
}

export const DEFAULT_BACKOFF_BASE_MS = 5000
export const DEFAULT_MAX_RETRY_AFTER_MS = 24 * 3_600_000

/**
 * The wait before retry number `attempt` (1 after the first failure): exponential growth
 * `baseMs · 2^(attempt-1)` up to `capMs`, with full jitter so a fleet that lost the WFM at
 * the same moment comes back spread out. A fifth of the first step stays as a floor, so an
 * unlucky draw never turns into an immediate retry. Retry-After wins over the cap (the
 * server asked for it) but not over `maxRetryAfterMs`, and gets up to 10% on top so the
 * fleet does not return in the same second.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const rng = opts.rng ?? Math.random
  const base = Math.max(1, opts.baseMs ?? DEFAULT_BACKOFF_BASE_MS)
  const cap = Math.max(1, opts.capMs)
  const exponent = Math.min(Math.max(0, Math.floor(attempt) - 1), 40)
  const ceiling = Math.min(cap, base * 2 ** exponent)
  const floor = Math.min(base, ceiling) / 5
  const delay = Math.round(floor + rng() * (ceiling - floor))
  const retryAfter = opts.retryAfterMs
  if (retryAfter === null || retryAfter === undefined || !(retryAfter > 0)) return delay
  const honoured = Math.min(retryAfter, opts.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS)
  return Math.max(delay, Math.round(honoured * (1 + 0.1 * rng())))
}

/**
 * Retry-After (RFC 9110 §10.2.3) in milliseconds from `now`: delay-seconds or an HTTP-date
 * (a date in the past means now, 0). Null when absent or unreadable.
 */
export function parseRetryAfter(header: string | null, now: Date): number | null {
  if (header === null) return null
  const s = header.trim()
  if (/^\d+$/.test(s)) return Number(s) * 1000
  // IMF-fixdate, and the obsolete RFC 850 and asctime forms, all name a weekday
  if (!/^[A-Za-z]{3,9},? /.test(s)) return null
  const t = Date.parse(s)
  if (Number.isNaN(t)) return null
  return Math.max(0, t - now.getTime())
}
