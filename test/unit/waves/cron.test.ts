import {describe, expect, test} from 'bun:test'
import {firesBetween, nextFire, parseCron} from '../../../src/server/rollouts/strategy/cron.ts'
import {compileWindow, deviceWindow, isOpen, windowClock} from '../../../src/server/rollouts/strategy/windows.ts'

const cron = (s: string) => {
  const r = parseCron(s)
  if (!r.ok) throw new Error(r.errors.join('; '))
  return r.cron
}

describe('cron', () => {
  test('parses lists, ranges and steps; Sunday is 0 or 7', () => {
    const c = cron('*/15 2-4 * * 1-5,7')
    expect([...c.minutes]).toEqual([0, 15, 30, 45])
    expect([...c.hours]).toEqual([2, 3, 4])
    expect([...c.weekdays].sort()).toEqual([0, 1, 2, 3, 4, 5])
  })

  test('every problem is listed', () => {
    const r = parseCron('61 25 * * x')
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.errors.length).toBe(3)
    const short = parseCron('0 2 * *')
    expect(short.ok).toBe(false)
  })

  test('fires at local time in a zone, on both sides of a DST change', () => {
    // Europe/Berlin: UTC+1 in winter, UTC+2 in summer (change on 2026-03-29).
    const c = cron('0 2 * * *')
    const fires = firesBetween(c, Date.parse('2026-03-27T00:00:00Z'), Date.parse('2026-03-30T23:00:00Z'), 'Europe/Berlin')
    expect(fires.map(t => new Date(t).toISOString())).toEqual([
      '2026-03-27T01:00:00.000Z', '2026-03-28T01:00:00.000Z',
      // 02:00 does not exist that day: the window opens at the jump (03:00 local = 01:00Z).
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:00:00.000Z',
    ])
  })

  test('day of month and day of week: either matches when both are restricted', () => {
    const c = cron('0 0 1 * 1')
    const fires = firesBetween(c, Date.parse('2026-06-01T00:00:00Z'), Date.parse('2026-06-16T00:00:00Z'), 'UTC')
    expect(fires.map(t => new Date(t).toISOString().slice(0, 10))).toEqual(['2026-06-01', '2026-06-08', '2026-06-15'])
  })

  test('next firing', () => {
    expect(new Date(nextFire(cron('30 3 * * 6'), Date.parse('2026-06-01T00:00:00Z'), 'UTC')!).toISOString()).toBe('2026-06-06T03:30:00.000Z')
    expect(nextFire(cron('0 0 31 2 *'), Date.parse('2026-06-01T00:00:00Z'), 'UTC')).toBeNull()
  })
})

describe('update windows', () => {
  const w = compileWindow({name: 'night', selector: 'site=berlin', schedule: '0 2 * * *', durationMs: 2 * 3_600_000, timeZone: 'Europe/Berlin'})!

  test('open for the duration after each firing', () => {
    expect(isOpen(w, Date.parse('2026-06-10T00:30:00Z'))).toBe(true) // 02:30 CEST
    expect(isOpen(w, Date.parse('2026-06-10T02:00:00Z'))).toBe(false) // 04:00 CEST: closed again
    expect(isOpen(w, Date.parse('2026-06-10T12:00:00Z'))).toBe(false)
  })

  test('a device is held only by the windows its labels match', () => {
    const clock = windowClock([w], Date.parse('2026-06-10T12:00:00Z'))
    expect(deviceWindow(clock, {site: 'paris'})).toEqual({open: true})
    const held = deviceWindow(clock, {site: 'berlin'})
    expect(held).toEqual({open: false, next: Date.parse('2026-06-11T00:00:00Z'), windows: ['night']})
  })
})
