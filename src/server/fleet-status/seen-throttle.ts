/**
 * Devices are seen on every signed request, which for a busy device is many times a minute.
 * Watchers only need to learn that a device is alive, so a `device.seen` event goes out at most
 * once per device per interval.
 */
export const SEEN_EVENT_INTERVAL_MS = 10_000

export class SeenThrottle {
  private readonly lastEmitted = new Map<string, number>()

  constructor(private readonly intervalMs = SEEN_EVENT_INTERVAL_MS) {}

  /** True when an event for `clientId` is due at `nowMs`; records it as sent. */
  due(clientId: string, nowMs: number): boolean {
    const last = this.lastEmitted.get(clientId)
    // A clock that went backwards must not silence a device until it catches up again.
    if (last !== undefined && nowMs >= last && nowMs - last < this.intervalMs) return false
    this.lastEmitted.set(clientId, nowMs)
    return true
  }
}

const throttles = new WeakMap<object, SeenThrottle>()

/** One throttle per server (keyed by its context object), so test servers do not share state. */
export function seenThrottleFor(owner: object): SeenThrottle {
  let t = throttles.get(owner)
  if (!t) {
    t = new SeenThrottle()
    throttles.set(owner, t)
  }
  return t
}
