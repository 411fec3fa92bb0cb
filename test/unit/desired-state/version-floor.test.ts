import {describe, expect, test} from 'bun:test'
import {planManifest} from '../../../src/server/desired-state/plan.ts'
import {clockWaitMs, restoreFloor} from '../../../src/server/desired-state/version-floor.ts'

const e = (n: number) => ({deploymentId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, digest: `sha256:${String(n).repeat(64).slice(0, 64)}`})

describe('manifest versions across a restore', () => {
  test('a floor lifts the next version above it; a version past the floor just grows by one', () => {
    expect(planManifest({manifestVersion: 7, entries: [e(1)]}, [e(2)], {floor: 1_000_000})).toEqual({changed: true, manifestVersion: 1_000_000})
    expect(planManifest({manifestVersion: 1_000_000, entries: [e(1)]}, [e(2)], {floor: 1_000_000})).toEqual({changed: true, manifestVersion: 1_000_001})
    expect(planManifest({manifestVersion: 7, entries: [e(1)]}, [e(2)], {floor: 3})).toEqual({changed: true, manifestVersion: 8})
  })

  test('a client the restored server knows but never sent a manifest starts at the floor, a new client at 1', () => {
    expect(planManifest(null, [], {floor: 5_000})).toEqual({changed: true, manifestVersion: 5_000})
    expect(planManifest(null, [], {floor: 0})).toEqual({changed: true, manifestVersion: 1})
  })

  test('force re-announces an unchanged set under a new version; without it nothing changes', () => {
    const previous = {manifestVersion: 4, entries: [e(1)]}
    expect(planManifest(previous, [e(1)], {floor: 9_000, force: true})).toEqual({changed: true, manifestVersion: 9_000})
    expect(planManifest(previous, [e(1)], {floor: 9_000})).toEqual({changed: false, manifestVersion: 4})
  })

  test('refuses a floor that is not a safe non-negative integer', () => {
    expect(() => planManifest(null, [], {floor: -1})).toThrow()
    expect(() => planManifest(null, [], {floor: 2 ** 53})).toThrow()
  })

  test('the restore floor is the clock in microseconds, above any count one version per microsecond could reach', () => {
    const restoredAt = Date.parse('2027-01-15T10:00:00Z')
    const floor = restoreFloor(restoredAt)
    expect(floor).toBe(restoredAt * 1000)
    expect(Number.isSafeInteger(floor)).toBe(true)
    // The old server, up to a millisecond before the restore, could not have issued more.
    expect(restoreFloor(restoredAt - 1)).toBeLessThan(floor)
    // Safe until 2255, well inside the specification's unsigned 64-bit range.
    expect(Number.isSafeInteger(restoreFloor(Date.parse('2255-01-01T00:00:00Z')))).toBe(true)
    expect(() => restoreFloor(Date.parse('2290-01-01T00:00:00Z'))).toThrow()
  })

  test('a version ahead of the clock waits until the clock has caught up with it', () => {
    const now = Date.parse('2027-01-15T10:00:00Z')
    expect(clockWaitMs(7, now)).toBe(0)
    expect(clockWaitMs(now * 1000, now)).toBe(0)
    expect(clockWaitMs(now * 1000 + 1, now)).toBe(1)
    expect(clockWaitMs(now * 1000 + 2500, now)).toBe(3)
  })
})
