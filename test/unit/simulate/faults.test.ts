import {describe, expect, test} from 'bun:test'
import {applyFails, drawOutage, firstPollDelay, outageChance, parseRate, seededRandom} from '../../../src/simulate/faults.ts'

const fixed = (...values: number[]) => {
  let i = 0
  return () => values[i++ % values.length]!
}

describe('failure and outage decisions', () => {
  test('rates are shares between 0 and 1, or percentages', () => {
    expect(parseRate('0.05', '--fail-rate')).toBe(0.05)
    expect(parseRate('5%', '--fail-rate')).toBe(0.05)
    expect(() => parseRate('1.5', '--fail-rate')).toThrow(/--fail-rate/)
    expect(() => parseRate('', '--fail-rate')).toThrow(/--fail-rate/)
  })

  test('an apply fails when the draw falls under the rate; rate 0 never draws', () => {
    expect(applyFails(0.1, fixed(0.05))).toBe(true)
    expect(applyFails(0.1, fixed(0.5))).toBe(false)
    expect(applyFails(0, () => { throw new Error('no draw') })).toBe(false)
  })

  test('the chance of going dark keeps the asked share of the fleet dark in the long run', () => {
    const outage = {minMs: 60_000, maxMs: 60_000}
    const p = outageChance(0.1, 30_000, outage)
    // online for 30 s / p on average, dark for 60 s: the dark share is 10%
    const online = 30_000 / p
    expect(60_000 / (60_000 + online)).toBeCloseTo(0.1, 6)
    expect(outageChance(0, 30_000, outage)).toBe(0)
    expect(outageChance(1, 30_000, outage)).toBe(1)
  })

  test('a simulated fleet goes dark at about the asked share', () => {
    const rng = seededRandom(7)
    const outage = {minMs: 30_000, maxMs: 90_000}
    let dark = 0
    let total = 0
    // 2 000 devices over 200 polls of 10 s each, counted in time
    for (let d = 0; d < 2000; d++) {
      let t = 0
      while (t < 2_000_000) {
        const o = drawOutage(0.2, 10_000, outage, rng)
        if (o === null) { t += 10_000; total += 10_000 } else { t += o; dark += o; total += o }
      }
    }
    expect(dark / total).toBeGreaterThan(0.17)
    expect(dark / total).toBeLessThan(0.23)
  })

  test('first polls spread over one interval, in order, never in lockstep', () => {
    const delays = Array.from({length: 1000}, (_, i) => firstPollDelay(i, 1000, 30_000, seededRandom(i)))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...delays)).toBeLessThanOrEqual(30_000)
    expect(new Set(delays.map(d => Math.floor(d / 1000))).size).toBe(30)
  })

  test('a seed repeats its draws', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    expect([a(), a(), a()]).toEqual([b(), b(), b()])
  })
})
