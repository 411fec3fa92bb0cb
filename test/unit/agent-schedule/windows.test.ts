import {describe, expect, test} from 'bun:test'
import {loadAgentConfig} from '../../../src/agent/config/index.ts'
import {downtimeEnd, inDowntime, isDailyWindow, isPollingAllowed, nextPollingStart, parsePeriod, parseWindows} from '../../../src/agent/schedule/windows.ts'

const at = (iso: string) => new Date(iso)
const iso = (d: Date | null) => d?.toISOString() ?? null

describe('A21: window configuration', () => {
  test('defaults: whole day, no downtime', () => {
    const cfg = parseWindows({timezone: 'UTC'})
    expect(cfg.pollingPeriods).toEqual([{from: 0, to: 1440}])
    expect(cfg.downtime).toEqual([])
    expect(isPollingAllowed(at('2026-06-01T03:17:00Z'), cfg)).toBe(true)
  })

  test('the host zone is the default', () => {
    expect(parseWindows({}).timezone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone)
  })

  test('without windows the zone is looked up only when asked for', () => {
    const original = Intl.DateTimeFormat
    let lookups = 0
    // biome-ignore lint/complexity/useArrowFunction: it is called with `new`, which an arrow function cannot be
    Intl.DateTimeFormat = function (...args: ConstructorParameters<typeof original>) {
      lookups++
      return new original(...args)
    } as typeof original
    try {
      const cfg = parseWindows({pollingPeriods: ['00:00-24:00']})
      expect(isPollingAllowed(at('2026-06-01T03:17:00Z'), cfg)).toBe(true)
      expect(inDowntime(at('2026-06-01T03:17:00Z'), cfg)).toBe(false)
      expect(lookups).toBe(0)
      expect(cfg.timezone).toBe(original().resolvedOptions().timeZone)
      expect(lookups).toBeGreaterThan(0)
      expect(() => parseWindows({timezone: 'Mars/Olympus'})).toThrow(/unknown time zone/)
    } finally {
      Intl.DateTimeFormat = original
    }
  })

  test('errors name the field', () => {
    expect(() => parseWindows({timezone: 'Mars/Olympus'})).toThrow(/unknown time zone/)
    expect(() => parseWindows({timezone: 'UTC', pollingPeriods: ['25:00-26:00']})).toThrow(/pollingPeriods\[0\]/)
    expect(() => parseWindows({timezone: 'UTC', pollingPeriods: ['06:00-06:00']})).toThrow(/empty/)
    expect(() => parseWindows({timezone: 'UTC', pollingPeriods: []})).toThrow(/at least one/)
    expect(() => parseWindows({timezone: 'UTC', downtime: [{from: 120, to: '04:00'}]})).toThrow(/downtime\[0\]: from/)
    expect(() => parseWindows({timezone: 'UTC', downtime: [{days: ['funday'], from: '01:00', to: '02:00'}]})).toThrow(/downtime\[0\]: days/)
    expect(() => parseWindows({timezone: 'UTC', downtime: [{start: '2026-05-02T00:00Z', end: '2026-05-01T00:00Z'}]})).toThrow(/after start/)
    expect(() => parseWindows({timezone: 'UTC', downtime: [{start: 'tomorrow', end: '2026-05-01T00:00Z'}]})).toThrow(/start/)
  })

  test('days accept names and ranges, wrapping the week', () => {
    const cfg = parseWindows({timezone: 'UTC', downtime: [{days: ['fri-mon', 'Wednesday'], from: '01:00', to: '02:00'}]})
    expect(cfg.downtime[0]).toEqual({kind: 'recurring', days: [0, 1, 3, 5, 6], from: 60, to: 120})
  })
})

describe('CL-34: polling period', () => {
  const day = parseWindows({timezone: 'UTC', pollingPeriods: ['06:00-22:00']})
  const night = parseWindows({timezone: 'UTC', pollingPeriods: '22:00-06:00'})

  test('a daily period, start inclusive, end exclusive', () => {
    expect(isPollingAllowed(at('2026-06-01T05:59:59Z'), day)).toBe(false)
    expect(isPollingAllowed(at('2026-06-01T06:00:00Z'), day)).toBe(true)
    expect(isPollingAllowed(at('2026-06-01T21:59:59Z'), day)).toBe(true)
    expect(isPollingAllowed(at('2026-06-01T22:00:00Z'), day)).toBe(false)
  })

  test('a period across midnight', () => {
    expect(isPollingAllowed(at('2026-06-01T23:30:00Z'), night)).toBe(true)
    expect(isPollingAllowed(at('2026-06-02T05:59:00Z'), night)).toBe(true)
    expect(isPollingAllowed(at('2026-06-02T12:00:00Z'), night)).toBe(false)
    expect(iso(nextPollingStart(at('2026-06-02T12:00:00Z'), night))).toBe('2026-06-02T22:00:00.000Z')
  })

  test('next start: now when allowed, else today or tomorrow', () => {
    expect(iso(nextPollingStart(at('2026-06-01T12:00:00Z'), day))).toBe('2026-06-01T12:00:00.000Z')
    expect(iso(nextPollingStart(at('2026-06-01T03:00:00Z'), day))).toBe('2026-06-01T06:00:00.000Z')
    expect(iso(nextPollingStart(at('2026-06-01T22:00:00Z'), day))).toBe('2026-06-02T06:00:00.000Z')
  })

  test('several periods: the nearest start wins', () => {
    const two = parseWindows({timezone: 'UTC', pollingPeriods: ['06:00-08:00', '12:00-13:00']})
    expect(iso(nextPollingStart(at('2026-06-01T09:00:00Z'), two))).toBe('2026-06-01T12:00:00.000Z')
    expect(iso(nextPollingStart(at('2026-06-01T13:00:00Z'), two))).toBe('2026-06-02T06:00:00.000Z')
  })

  test('periods are local wall time in the configured zone', () => {
    const berlin = parseWindows({timezone: 'Europe/Berlin', pollingPeriods: ['06:00-22:00']})
    // 05:30 UTC in June is 07:30 CEST
    expect(isPollingAllowed(at('2026-06-01T05:30:00Z'), berlin)).toBe(true)
    expect(isPollingAllowed(at('2026-06-01T20:30:00Z'), berlin)).toBe(false)
    expect(iso(nextPollingStart(at('2026-06-01T20:30:00Z'), berlin))).toBe('2026-06-02T04:00:00.000Z')
  })
})

describe('CL-34: DST in Europe/Berlin', () => {
  test('spring forward, 2026-03-29: the period starts at 06:00 CEST, one hour earlier in UTC than the day before', () => {
    const cfg = parseWindows({timezone: 'Europe/Berlin', pollingPeriods: ['06:00-22:00']})
    expect(iso(nextPollingStart(at('2026-03-28T22:00:00Z'), cfg))).toBe('2026-03-29T04:00:00.000Z')
    expect(iso(nextPollingStart(at('2026-03-27T22:00:00Z'), cfg))).toBe('2026-03-28T05:00:00.000Z')
  })

  test('spring forward: a window starting inside the skipped hour begins at the jump', () => {
    const cfg = parseWindows({timezone: 'Europe/Berlin', pollingPeriods: ['02:30-04:00']})
    // 00:59 UTC is 01:59 CET; at 01:00 UTC the clock jumps from 02:00 to 03:00
    expect(isPollingAllowed(at('2026-03-29T00:59:00Z'), cfg)).toBe(false)
    expect(iso(nextPollingStart(at('2026-03-29T00:00:00Z'), cfg))).toBe('2026-03-29T01:00:00.000Z')
    expect(isPollingAllowed(at('2026-03-29T01:00:00Z'), cfg)).toBe(true)
  })

  test('spring forward: a downtime over the night lasts one hour less in real time', () => {
    const cfg = parseWindows({timezone: 'Europe/Berlin', downtime: [{from: '01:00', to: '05:00'}]})
    expect(inDowntime(at('2026-03-29T00:00:00Z'), cfg)).toBe(true)
    expect(iso(downtimeEnd(at('2026-03-29T00:00:00Z'), cfg))).toBe('2026-03-29T03:00:00.000Z')
    expect(iso(downtimeEnd(at('2026-03-28T00:00:00Z'), cfg))).toBe('2026-03-28T04:00:00.000Z')
  })

  test('fall back, 2026-10-25: 02:00-02:30 happens twice, and each ends at its own 02:30', () => {
    const cfg = parseWindows({timezone: 'Europe/Berlin', downtime: [{from: '02:00', to: '02:30'}]})
    // first 02:15 (CEST) is 00:15 UTC, second 02:15 (CET) is 01:15 UTC
    expect(iso(downtimeEnd(at('2026-10-25T00:15:00Z'), cfg))).toBe('2026-10-25T00:30:00.000Z')
    expect(inDowntime(at('2026-10-25T00:45:00Z'), cfg)).toBe(false)
    expect(iso(downtimeEnd(at('2026-10-25T01:15:00Z'), cfg))).toBe('2026-10-25T01:30:00.000Z')
  })

  test('fall back: a downtime over the night lasts one hour more in real time', () => {
    const cfg = parseWindows({timezone: 'Europe/Berlin', downtime: [{from: '01:00', to: '05:00'}]})
    expect(iso(downtimeEnd(at('2026-10-25T00:00:00Z'), cfg))).toBe('2026-10-25T04:00:00.000Z')
    expect(iso(downtimeEnd(at('2026-10-24T00:00:00Z'), cfg))).toBe('2026-10-24T03:00:00.000Z')
  })

  test('fall back: a downtime ending at 03:00 first ends when the clock turns back to 02:00', () => {
    const cfg = parseWindows({timezone: 'Europe/Berlin', downtime: [{from: '02:45', to: '03:00'}]})
    // 00:50 UTC = 02:50 CEST; at 01:00 UTC the clock reads 02:00 CET, then 02:45 CET again at 01:45 UTC
    expect(iso(downtimeEnd(at('2026-10-25T00:50:00Z'), cfg))).toBe('2026-10-25T01:00:00.000Z')
    expect(inDowntime(at('2026-10-25T01:30:00Z'), cfg)).toBe(false)
    expect(iso(downtimeEnd(at('2026-10-25T01:50:00Z'), cfg))).toBe('2026-10-25T02:00:00.000Z')
  })

  test('fall back: a period ending inside the repeated hour ends at the clock turning back', () => {
    const cfg = parseWindows({timezone: 'Europe/Berlin', pollingPeriods: ['02:45-03:00']})
    // 00:50 UTC = 02:50 CEST; at 01:00 UTC the clock shows 02:00 CET, outside the period
    expect(isPollingAllowed(at('2026-10-25T00:50:00Z'), cfg)).toBe(true)
    expect(isPollingAllowed(at('2026-10-25T01:00:00Z'), cfg)).toBe(false)
    expect(iso(nextPollingStart(at('2026-10-25T01:00:00Z'), cfg))).toBe('2026-10-25T01:45:00.000Z')
  })
})

describe('CL-34: downtime windows', () => {
  test('a daily window across midnight', () => {
    const cfg = parseWindows({timezone: 'UTC', downtime: [{from: '22:00', to: '06:00'}]})
    expect(inDowntime(at('2026-06-01T21:59:00Z'), cfg)).toBe(false)
    expect(inDowntime(at('2026-06-01T23:00:00Z'), cfg)).toBe(true)
    expect(iso(downtimeEnd(at('2026-06-01T23:00:00Z'), cfg))).toBe('2026-06-02T06:00:00.000Z')
    expect(iso(downtimeEnd(at('2026-06-02T03:00:00Z'), cfg))).toBe('2026-06-02T06:00:00.000Z')
    expect(downtimeEnd(at('2026-06-02T06:00:00Z'), cfg)).toBeNull()
  })

  test('days name the day a window starts on', () => {
    // 2026-06-06 is a Saturday
    const cfg = parseWindows({timezone: 'UTC', downtime: [{days: ['sat'], from: '22:00', to: '06:00'}]})
    expect(inDowntime(at('2026-06-06T23:00:00Z'), cfg)).toBe(true)
    expect(inDowntime(at('2026-06-07T05:00:00Z'), cfg)).toBe(true)
    expect(inDowntime(at('2026-06-07T23:00:00Z'), cfg)).toBe(false)
    expect(inDowntime(at('2026-06-06T05:00:00Z'), cfg)).toBe(false)
  })

  test('adjoining and overlapping windows count as one downtime', () => {
    const cfg = parseWindows({timezone: 'UTC', downtime: [
      {from: '01:00', to: '02:00'},
      {from: '02:00', to: '03:00'},
      {start: '2026-06-01T02:30:00Z', end: '2026-06-01T05:00:00Z'},
    ]})
    expect(iso(downtimeEnd(at('2026-06-01T01:10:00Z'), cfg))).toBe('2026-06-01T05:00:00.000Z')
    expect(iso(downtimeEnd(at('2026-06-02T01:10:00Z'), cfg))).toBe('2026-06-02T03:00:00.000Z')
  })

  test('a one-off window; local times are read in the configured zone', () => {
    const cfg = parseWindows({timezone: 'Europe/Berlin', downtime: [{start: '2026-05-01T08:00', end: new Date('2026-05-03T16:00:00Z')}]})
    expect(inDowntime(at('2026-05-01T05:59:00Z'), cfg)).toBe(false)
    expect(inDowntime(at('2026-05-01T06:00:00Z'), cfg)).toBe(true)
    expect(iso(downtimeEnd(at('2026-05-02T00:00:00Z'), cfg))).toBe('2026-05-03T16:00:00.000Z')
  })

  test('a downtime longer than the search horizon reports the horizon, to be asked again then', () => {
    const cfg = parseWindows({timezone: 'UTC', downtime: [{from: '00:00', to: '24:00'}]})
    const end = downtimeEnd(at('2026-06-01T00:00:00Z'), cfg)!
    expect(end.getTime()).toBeGreaterThan(at('2026-06-01T00:00:00Z').getTime())
    expect(inDowntime(end, cfg)).toBe(true)
  })
})

describe('the daily-window grammar (polling periods, downtime from/to)', () => {
  test.each([
    ['06:00-22:00', {from: 360, to: 1320}],
    ['6:00-22:00', {from: 360, to: 1320}],
    ['6:05-9:30', {from: 365, to: 570}],
    ['22:00-06:00', {from: 1320, to: 360}],
    ['00:00-24:00', {from: 0, to: 1440}],
    ['18:00-24:00', {from: 1080, to: 1440}],
    [' 06:00 - 22:00 ', {from: 360, to: 1320}],
  ])('accepts %p', (text, period) => {
    expect(parsePeriod(text)).toEqual(period)
    expect(isDailyWindow(text)).toBe(true)
  })

  test.each(['6:0-22:00', '06:00-24:01', '24:00-06:00', '25:00-26:00', '06:60-22:00', '006:00-22:00', '08:00-08:00', '6-22', '06:00', '06:00-22:00-23:00', ''])('refuses %p', text => {
    expect(() => parsePeriod(text)).toThrow()
    expect(isDailyWindow(text)).toBe(false)
  })

  test('the agent configuration accepts exactly what the scheduler accepts', () => {
    const load = (period: string) => loadAgentConfig({flags: {server: 'https://wfm.example', pollingIntervalPeriod: period}, env: {}, defaults: {stateDir: '/tmp/x', configPath: '/nonexistent/agent.yaml'}})
    expect(load('6:00-22:00').config.pollingIntervalPeriod).toEqual(['6:00-22:00'])
    expect(() => parseWindows({timezone: 'UTC', pollingPeriods: load('6:00-22:00').config.pollingIntervalPeriod})).not.toThrow()
    for (const bad of ['24:01-06:00', '6:0-22:00']) {
      expect(() => load(bad)).toThrow(/pollingIntervalPeriod/)
      expect(() => parseWindows({timezone: 'UTC', pollingPeriods: [bad]})).toThrow(/pollingPeriods\[0\]/)
    }
  })
})
