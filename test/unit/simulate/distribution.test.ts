import {describe, expect, test} from 'bun:test'
import {describeDistribution, mean, parseDistribution, sample} from '../../../src/simulate/distribution.ts'

describe('--apply-time and --offline-time distributions', () => {
  test('a duration is fixed, a range is uniform between its ends', () => {
    expect(parseDistribution('2s', '--apply-time')).toEqual({minMs: 2000, maxMs: 2000})
    expect(parseDistribution('500ms..PT5S', '--apply-time')).toEqual({minMs: 500, maxMs: 5000})
    const d = parseDistribution('1s..5s', '--apply-time')
    expect(sample(d, () => 0)).toBe(1000)
    expect(sample(d, () => 0.5)).toBe(3000)
    expect(sample(d, () => 0.999999)).toBe(5000)
    expect(mean(d)).toBe(3000)
    expect(describeDistribution(d)).toBe('1s..5s')
    expect(describeDistribution({minMs: 250, maxMs: 250})).toBe('250ms')
  })

  test('malformed or backwards ranges are refused with the flag named', () => {
    expect(() => parseDistribution('5s..1s', '--apply-time')).toThrow(/--apply-time .*ends before it starts/)
    expect(() => parseDistribution('1s..', '--apply-time')).toThrow(/--apply-time/)
    expect(() => parseDistribution('soon', '--offline-time')).toThrow(/--offline-time: invalid duration/)
  })
})
