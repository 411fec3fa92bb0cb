import {describe, expect, test} from 'bun:test'
import {backoffDelay, jitter, parseRetryAfter} from '../../../src/agent/schedule/backoff.ts'
import {parseDuration} from '../../../src/util/duration.ts'

describe('durations (§7 pollingIntervalRate: ISO 8601 or seconds)', () => {
  test('seconds as a number or digit string', () => {
    expect(parseDuration(300)).toBe(300_000)
    expect(parseDuration('300')).toBe(300_000)
    expect(parseDuration('1.5')).toBe(1500)
  })

  test('ISO 8601 durations', () => {
    expect(parseDuration('PT5M')).toBe(300_000)
    expect(parseDuration('PT1H30M')).toBe(5_400_000)
    expect(parseDuration('P1D')).toBe(86_400_000)
    expect(parseDuration('P1DT1S')).toBe(86_401_000)
    expect(parseDuration('PT0.5S')).toBe(500)
  })

  test('compact units', () => {
    expect(parseDuration('5m')).toBe(300_000)
    expect(parseDuration('30s')).toBe(30_000)
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration('250ms')).toBe(250)
  })

  test('anything else is a clear error', () => {
    for (const bad of ['', 'P', 'PT', '5x', '-5', '1h 30m', 'soon', 'm']) expect(() => parseDuration(bad)).toThrow(/invalid duration/)
    expect(() => parseDuration('P1M')).toThrow(/months/)
    expect(() => parseDuration(-1)).toThrow()
    expect(() => parseDuration(Number.NaN)).toThrow()
  })
})

describe('§7 back-off', () => {
  const mid = () => 0.5

  test('jitter is ±10% around the interval', () => {
    expect(jitter(300_000, () => 0)).toBe(270_000)
    expect(jitter(300_000, () => 1)).toBe(330_000)
    expect(jitter(300_000, mid)).toBe(300_000)
  })

  test('the exponential ceiling doubles per attempt from 5 s', () => {
    const top = (attempt: number) => backoffDelay(attempt, {capMs: 3_600_000, rng: () => 1})
    expect([1, 2, 3, 4, 5].map(top)).toEqual([5000, 10_000, 20_000, 40_000, 80_000])
  })

  test('full jitter spreads each attempt between a small floor and its ceiling', () => {
    expect(backoffDelay(4, {capMs: 3_600_000, rng: () => 0})).toBe(1000)
    const d = backoffDelay(4, {capMs: 3_600_000, rng: mid})
    expect(d).toBeGreaterThan(1000)
    expect(d).toBeLessThan(40_000)
  })

  test('capped at the poll interval, however many failures', () => {
    expect(backoffDelay(50, {capMs: 300_000, rng: () => 1})).toBe(300_000)
    expect(backoffDelay(10_000, {capMs: 300_000, rng: () => 1})).toBe(300_000)
  })

  test('Retry-After is never undercut, even above the cap', () => {
    expect(backoffDelay(1, {capMs: 300_000, retryAfterMs: 120_000, rng: () => 0})).toBe(120_000)
    expect(backoffDelay(1, {capMs: 300_000, retryAfterMs: 900_000, rng: () => 0})).toBe(900_000)
    expect(backoffDelay(1, {capMs: 300_000, retryAfterMs: 900_000, rng: () => 1})).toBe(990_000)
    // a shorter Retry-After does not shorten the back-off
    expect(backoffDelay(6, {capMs: 300_000, retryAfterMs: 1000, rng: () => 1})).toBe(160_000)
  })

  test('an absurd Retry-After is bounded so the device cannot be silenced for good', () => {
    expect(backoffDelay(1, {capMs: 300_000, retryAfterMs: 365 * 86_400_000, rng: () => 0})).toBe(86_400_000)
  })

  test('Retry-After: delay-seconds and HTTP-date', () => {
    const now = new Date('2026-01-01T00:00:00Z')
    expect(parseRetryAfter('120', now)).toBe(120_000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:30 GMT', now)).toBe(90_000)
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter(null, now)).toBeNull()
    expect(parseRetryAfter('soon', now)).toBeNull()
    expect(parseRetryAfter('-5', now)).toBeNull()
    expect(parseRetryAfter('2026-01-01', now)).toBeNull()
  })
})
