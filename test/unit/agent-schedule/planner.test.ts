import {describe, expect, test} from 'bun:test'
import {mayFlushOutbox, mayPoll, nextWake} from '../../../src/agent/schedule/planner.ts'
import {parseWindows} from '../../../src/agent/schedule/windows.ts'

const at = (iso: string) => new Date(iso)
const MIN = 60_000
const low = () => 0
const high = () => 1
const mid = () => 0.5

function config(windows: Parameters<typeof parseWindows>[0] = {}, pollIntervalMs = 5 * MIN) {
  return {...parseWindows({timezone: 'UTC', ...windows}), pollIntervalMs}
}

describe('§7 planning the next wake', () => {
  test('CL-16: the first poll is immediate', () => {
    const now = at('2026-06-01T12:00:00Z')
    expect(nextWake(now, config(), {lastPollAt: null, failures: 0}, mid)).toEqual({at: now, reason: 'poll'})
  })

  test('CL-34: polling interval rate with ±10% jitter', () => {
    const last = at('2026-06-01T12:00:00Z')
    const now = at('2026-06-01T12:00:01Z')
    const w = (rng: () => number) => nextWake(now, config(), {lastPollAt: last, failures: 0}, rng)
    expect(w(mid)).toEqual({at: at('2026-06-01T12:05:00Z'), reason: 'poll'})
    expect(w(low).at).toEqual(at('2026-06-01T12:04:30Z'))
    expect(w(high).at).toEqual(at('2026-06-01T12:05:30Z'))
  })

  test('an overdue poll happens now, not in the past', () => {
    const now = at('2026-06-01T13:00:00Z')
    expect(nextWake(now, config(), {lastPollAt: at('2026-06-01T12:00:00Z'), failures: 0}, mid).at).toEqual(now)
  })

  test('an interval of 0 cannot become a busy loop', () => {
    const last = at('2026-06-01T12:00:00Z')
    const w = nextWake(last, config({}, 0), {lastPollAt: last, failures: 0}, mid)
    expect(w.at.getTime() - last.getTime()).toBeGreaterThanOrEqual(900)
  })

  test('back-off grows with failures and is capped at the interval', () => {
    const last = at('2026-06-01T12:00:00Z')
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map(failures => nextWake(last, config(), {lastPollAt: last, failures}, high))
    expect(delays.every(d => d.reason === 'retry')).toBe(true)
    expect(delays.map(d => (d.at.getTime() - last.getTime()) / 1000)).toEqual([5, 10, 20, 40, 80, 160, 300, 300])
  })

  test('Retry-After is honoured', () => {
    const last = at('2026-06-01T12:00:00Z')
    const w = nextWake(last, config(), {lastPollAt: last, failures: 1, retryAfterMs: 120_000}, low)
    expect(w).toEqual({at: at('2026-06-01T12:02:00Z'), reason: 'retry'})
  })

  test('CL-34: inside downtime nothing happens until it ends, not even a retry', () => {
    const cfg = config({downtime: [{from: '02:00', to: '04:30'}]})
    const now = at('2026-06-01T02:10:00Z')
    expect(nextWake(now, cfg, {lastPollAt: at('2026-06-01T02:09:00Z'), failures: 3}, low)).toEqual({at: at('2026-06-01T04:30:00Z'), reason: 'downtime-end'})
    expect(nextWake(now, cfg, {lastPollAt: at('2026-06-01T01:59:00Z'), failures: 0}, low)).toEqual({at: at('2026-06-01T04:30:00Z'), reason: 'downtime-end'})
    expect(nextWake(now, cfg, {lastPollAt: at('2026-06-01T01:59:00Z'), failures: 1, retryAfterMs: 60_000}, low).reason).toBe('downtime-end')
  })

  test('CL-34: a poll due inside an upcoming downtime is moved to its end', () => {
    const cfg = config({downtime: [{from: '02:00', to: '04:30'}]})
    const last = at('2026-06-01T01:58:00Z')
    expect(nextWake(last, cfg, {lastPollAt: last, failures: 0}, low)).toEqual({at: at('2026-06-01T04:30:00Z'), reason: 'downtime-end'})
  })

  test('the end of a downtime is spread a little so a fleet does not call in the same second', () => {
    const cfg = config({downtime: [{from: '02:00', to: '04:30'}]}, 60 * MIN)
    const w = nextWake(at('2026-06-01T03:00:00Z'), cfg, {lastPollAt: null, failures: 0}, high)
    expect(w.at).toEqual(at('2026-06-01T04:31:00Z'))
  })

  test('CL-34: outside the polling period, wait for its start', () => {
    const cfg = config({pollingPeriods: ['06:00-22:00']})
    const last = at('2026-06-01T21:58:00Z')
    expect(nextWake(last, cfg, {lastPollAt: last, failures: 0}, low)).toEqual({at: at('2026-06-02T06:00:00Z'), reason: 'period-start'})
    // a retry that would fall after the period's end waits for the next period too
    const late = at('2026-06-01T21:59:50Z')
    expect(nextWake(late, cfg, {lastPollAt: late, failures: 4}, high).reason).toBe('period-start')
    expect(nextWake(late, cfg, {lastPollAt: late, failures: 1}, low).reason).toBe('retry')
  })

  test('a downtime ending outside the polling period waits for the period too', () => {
    const cfg = config({pollingPeriods: ['06:00-22:00'], downtime: [{from: '23:00', to: '05:00'}, {from: '06:00', to: '06:30'}]})
    expect(nextWake(at('2026-06-01T23:30:00Z'), cfg, {lastPollAt: null, failures: 0}, low)).toEqual({at: at('2026-06-02T06:30:00Z'), reason: 'downtime-end'})
  })

  test('A31: status reports may be flushed outside the polling period but not during downtime', () => {
    const cfg = config({pollingPeriods: ['06:00-22:00'], downtime: [{from: '02:00', to: '04:00'}]})
    expect(mayFlushOutbox(at('2026-06-01T23:00:00Z'), cfg)).toBe(true)
    expect(mayFlushOutbox(at('2026-06-01T03:00:00Z'), cfg)).toBe(false)
    expect(mayFlushOutbox(at('2026-06-01T12:00:00Z'), cfg)).toBe(true)
  })

  test('CL-34: a poll is allowed only inside the period and outside downtime', () => {
    const cfg = config({pollingPeriods: ['06:00-22:00'], downtime: [{from: '12:00', to: '13:00'}]})
    expect(mayPoll(at('2026-06-01T23:00:00Z'), cfg)).toBe(false)
    expect(mayPoll(at('2026-06-01T12:30:00Z'), cfg)).toBe(false)
    expect(mayPoll(at('2026-06-01T13:00:00Z'), cfg)).toBe(true)
  })

  test('a downtime that never ends yields a wake that mayPoll refuses', () => {
    const cfg = config({downtime: [{from: '00:00', to: '24:00'}]})
    const w = nextWake(at('2026-06-01T12:00:00Z'), cfg, {lastPollAt: null, failures: 0}, low)
    expect(w.at.getTime()).toBeGreaterThan(at('2026-06-02T12:00:00Z').getTime())
    expect(mayPoll(w.at, cfg)).toBe(false)
  })
})
