import {describe, expect, test} from 'bun:test'
import {checkThresholds, DEFAULT_LIVENESS_THRESHOLDS, livenessOf} from '../../../src/operator-contract/liveness.ts'
import {freshestSeen} from '../../../src/server/fleet-status/views.ts'
import {SeenThrottle} from '../../../src/server/fleet-status/seen-throttle.ts'

const now = new Date('2026-11-23T12:00:00.000Z')
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString()
const MIN = 60_000

describe('livenessOf', () => {
  test('defaults: online under 15 min, stale until 1 h, offline from 1 h or never seen', () => {
    expect(livenessOf(ago(0), now)).toBe('online')
    expect(livenessOf(ago(5 * MIN), now)).toBe('online') // one default poll period
    expect(livenessOf(ago(15 * MIN - 1), now)).toBe('online')
    expect(livenessOf(ago(15 * MIN), now)).toBe('stale')
    expect(livenessOf(ago(60 * MIN - 1), now)).toBe('stale')
    expect(livenessOf(ago(60 * MIN), now)).toBe('offline')
    expect(livenessOf(ago(24 * 60 * MIN), now)).toBe('offline')
    expect(livenessOf(null, now)).toBe('offline')
    expect(livenessOf(undefined, now)).toBe('offline')
  })

  test('configured thresholds are honoured; a time slightly ahead of ours is online; garbage is offline', () => {
    const t = {staleAfterMs: 30_000, offlineAfterMs: 120_000}
    expect(livenessOf(ago(29_999), now, t)).toBe('online')
    expect(livenessOf(ago(30_000), now, t)).toBe('stale')
    expect(livenessOf(ago(120_000), now, t)).toBe('offline')
    expect(livenessOf(new Date(now.getTime() + 2_000), now, t)).toBe('online')
    expect(livenessOf('yesterday', now, t)).toBe('offline')
  })

  test('checkThresholds refuses non-positive values and a stale threshold not below the offline one', () => {
    expect(checkThresholds()).toEqual(DEFAULT_LIVENESS_THRESHOLDS)
    expect(checkThresholds({staleAfterMs: 1000})).toEqual({staleAfterMs: 1000, offlineAfterMs: 60 * MIN})
    expect(() => checkThresholds({staleAfterMs: 0})).toThrow('positive')
    expect(() => checkThresholds({staleAfterMs: 60 * MIN})).toThrow('shorter')
  })

  test('freshestSeen prefers the unflushed in-memory time when it is newer', () => {
    expect(freshestSeen(null, undefined)).toBeNull()
    expect(freshestSeen('2026-11-23T11:00:00.000Z', undefined)).toBe('2026-11-23T11:00:00.000Z')
    expect(freshestSeen(null, '2026-11-23T11:00:00.000Z')).toBe('2026-11-23T11:00:00.000Z')
    expect(freshestSeen('2026-11-23T11:00:00.000Z', '2026-11-23T11:59:58.000Z')).toBe('2026-11-23T11:59:58.000Z')
    expect(freshestSeen('2026-11-23T11:59:58.000Z', '2026-11-23T11:00:00.000Z')).toBe('2026-11-23T11:59:58.000Z')
  })
})

describe('SeenThrottle', () => {
  test('once per device per interval, devices independent, a clock going back does not silence a device', () => {
    const t = new SeenThrottle(10_000)
    expect(t.due('a', 0)).toBe(true)
    expect(t.due('a', 9_999)).toBe(false)
    expect(t.due('b', 5_000)).toBe(true)
    expect(t.due('a', 10_000)).toBe(true)
    expect(t.due('a', 15_000)).toBe(false)
    expect(t.due('a', 1_000)).toBe(true)
  })
})
