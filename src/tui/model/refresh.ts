/** The longest the dashboard waits after an event before it reloads. */
export const MAX_REFRESH_DELAY_MS = 10_000

/**
 * How long after a change event the dashboard reloads its lists. At least `debounceMs`, so a
 * burst of events makes one reload; and at least twice the last reload's duration, so on a big
 * fleet during a rollout (a stream of events, lists of thousands) the dashboard spends at most a
 * third of its time loading and never keeps the server busy for itself alone.
 */
export function refreshDelay(debounceMs: number, lastRefreshMs: number): number {
  return Math.min(MAX_REFRESH_DELAY_MS, Math.max(debounceMs, 2 * lastRefreshMs))
}
