import {UsageError} from '../util/errors.ts'
import {mean, sample, type Distribution} from './distribution.ts'

export type Rng = () => number

/** A small seeded generator (mulberry32), so a rehearsal with `--seed` makes the same draws. */
export function seededRandom(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A rate given on the command line: a share between 0 and 1. */
export function parseRate(text: string, flag: string): number {
  const value = Number(text.trim().endsWith('%') ? Number(text.trim().slice(0, -1)) / 100 : text)
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a share between 0 and 1 (or a percentage such as 5%)`)
  return value
}

/** Whether one apply fails: each apply (retries included) draws again. */
export function applyFails(rate: number, rng: Rng): boolean {
  return rate > 0 && rng() < rate
}

/**
 * The chance that an online device goes dark at one poll, chosen so that in the long run
 * `rate` of the fleet is dark: online stretches last `pollIntervalMs / p` on average and
 * outages `mean(outage)`, so the dark share is p·M / (p·M + T), solved for p.
 */
export function outageChance(rate: number, pollIntervalMs: number, outage: Distribution): number {
  if (rate <= 0) return 0
  if (rate >= 1) return 1
  const m = Math.max(1, mean(outage))
  return Math.min(1, (rate * pollIntervalMs) / (m * (1 - rate)))
}

/** At a poll: how long the device now goes dark, or null when it stays online. */
export function drawOutage(rate: number, pollIntervalMs: number, outage: Distribution, rng: Rng): number | null {
  const p = outageChance(rate, pollIntervalMs, outage)
  if (p === 0 || rng() >= p) return null
  return Math.max(1, sample(outage, rng))
}

/**
 * When device `index` of `count` first polls: spread evenly over one poll interval (with a
 * little jitter) so a large fleet never starts in lockstep.
 */
export function firstPollDelay(index: number, count: number, pollIntervalMs: number, rng: Rng): number {
  const slot = pollIntervalMs / Math.max(1, count)
  return Math.round(index * slot + rng() * slot)
}
