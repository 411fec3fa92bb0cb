/**
 * Token buckets per client, in memory: each client may send `burst` requests at once and
 * `perSecond` on average. Losing the buckets on a restart only forgives a device once.
 */
export interface Rate {
  burst: number
  perSecond: number
}

interface Bucket {
  tokens: number
  atMs: number
}

/** Buckets kept before idle (full) ones are dropped. */
const PRUNE_ABOVE = 10_000

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>()

  constructor(private readonly rate: Rate) {}

  /** Takes one token for `key`: 0 when allowed, else the whole seconds until one is available. */
  take(key: string, nowMs: number): number {
    const bucket = this.refill(this.buckets.get(key), nowMs)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      this.buckets.set(key, bucket)
      if (this.buckets.size > PRUNE_ABOVE) this.prune(nowMs)
      return 0
    }
    this.buckets.set(key, bucket)
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate.perSecond))
  }

  private refill(bucket: Bucket | undefined, nowMs: number): Bucket {
    if (!bucket) return {tokens: this.rate.burst, atMs: nowMs}
    // A clock that went backwards gives nothing back, and takes nothing either.
    const elapsed = Math.max(0, nowMs - bucket.atMs) / 1000
    return {tokens: Math.min(this.rate.burst, bucket.tokens + elapsed * this.rate.perSecond), atMs: Math.max(nowMs, bucket.atMs)}
  }

  private prune(nowMs: number) {
    for (const [key, bucket] of this.buckets) {
      if (this.refill(bucket, nowMs).tokens >= this.rate.burst) this.buckets.delete(key)
    }
  }
}

const limiters = new WeakMap<object, TokenBuckets>()

/** One set of buckets per server (keyed by its context object), so test servers do not share state. */
export function bucketsFor(owner: object, rate: Rate): TokenBuckets {
  let b = limiters.get(owner)
  if (!b) {
    b = new TokenBuckets(rate)
    limiters.set(owner, b)
  }
  return b
}
