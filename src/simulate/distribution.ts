import {parseDuration} from '../util/duration.ts'
import {UsageError} from '../util/errors.ts'

/** A duration drawn uniformly between `minMs` and `maxMs` (equal for a fixed duration). */
export interface Distribution {
  minMs: number
  maxMs: number
}

/** `2s` (always two seconds) or `1s..5s` (uniform between); any duration syntax the agent accepts. */
export function parseDistribution(text: string, flag: string): Distribution {
  const parts = text.split('..')
  if (parts.length > 2 || parts.some(p => p.trim() === '')) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a duration (2s) or a range (1s..5s)`)
  let bounds: number[]
  try {
    bounds = parts.map(p => parseDuration(p))
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`)
  }
  const [minMs, maxMs = minMs] = bounds as [number, number?]
  if (maxMs < minMs) throw new UsageError(`${flag} ${JSON.stringify(text)}: the range ends before it starts`)
  return {minMs, maxMs}
}

export function sample(d: Distribution, rng: () => number): number {
  return Math.round(d.minMs + rng() * (d.maxMs - d.minMs))
}

export function mean(d: Distribution): number {
  return (d.minMs + d.maxMs) / 2
}

export function describeDistribution(d: Distribution): string {
  const s = (ms: number) => ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
  return d.minMs === d.maxMs ? s(d.minMs) : `${s(d.minMs)}..${s(d.maxMs)}`
}
