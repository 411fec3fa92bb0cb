import {describe, expect, test} from 'bun:test'
import {countStates, onlineState, rate, summaryLine} from '../../../src/simulate/summary.ts'

describe('fleet summary', () => {
  test("a device shows its least settled deployment; no deployment (or only removed ones) is idle", () => {
    expect(onlineState([])).toBe('idle')
    expect(onlineState(['removed'])).toBe('idle')
    expect(onlineState(['installed', 'installing'])).toBe('installing')
    expect(onlineState(['installed', 'failed', 'installing'])).toBe('failed')
    expect(onlineState(['installed', 'removed'])).toBe('installed')
  })

  test('one line with the states that have devices, polls per second and errors', () => {
    const states = countStates(['installed', 'installed', 'failed', 'offline'])
    expect(summaryLine({devices: 4, states, polls: 10, pollsPerSecond: 3.25, errors: 1, elapsedSeconds: 65})).toBe('4 devices: 1 offline, 1 failed, 2 installed | 3.3 polls/s | 1 error | 1m05s')
  })

  test('polls per second over the sampled window', () => {
    expect(rate([{at: 0, polls: 0}, {at: 2000, polls: 50}])).toBe(25)
    expect(rate([{at: 0, polls: 0}])).toBe(0)
  })
})
