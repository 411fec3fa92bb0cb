/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in an
 * IANA time zone through src/util/zoned.ts, so a window at 02:00 Europe/Berlin opens at 02:00
 * local time on both sides of a DST change (and at the jump when the clocks skip 02:00).
 *
 * Fields take `*`, numbers, ranges `a-b`, steps `*∕n` and `a-b/n`, and lists of those.
 * Day of week is 0–7 (0 and 7 are Sunday). As in classic cron, when both day fields are
 * restricted a day matches if either does.
 */
import {addDays, instantsOfWall, wallTime} from '../../../util/zoned.ts'

export interface Cron {
  source: string
  minutes: ReadonlySet<number>
  hours: ReadonlySet<number>
  days: ReadonlySet<number>
  months: ReadonlySet<number>
  weekdays: ReadonlySet<number>
  dayRestricted: boolean
  weekdayRestricted: boolean
}

const FIELDS = [
  {name: 'minute', min: 0, max: 59},
  {name: 'hour', min: 0, max: 23},
  {name: 'day of month', min: 1, max: 31},
  {name: 'month', min: 1, max: 12},
  {name: 'day of week', min: 0, max: 7},
] as const

function parseField(text: string, field: typeof FIELDS[number]): {ok: true, values: Set<number>} | {ok: false, error: string} {
  const values = new Set<number>()
  const bad = (why: string) => ({ok: false as const, error: `${field.name} ${JSON.stringify(text)}: ${why}`})
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part)
    if (!m) return bad(`"${part}" is not *, N, N-M or a step like */15`)
    const step = m[4] === undefined ? 1 : Number(m[4])
    if (step < 1) return bad('a step must be at least 1')
    let lo: number = field.min
    let hi: number = field.max
    if (m[1] !== '*') {
      lo = Number(m[2])
      hi = m[3] === undefined ? (m[4] === undefined ? lo : field.max) : Number(m[3])
    }
    if (lo < field.min || hi > field.max) return bad(`values must be within ${field.min}-${field.max}`)
    if (lo > hi) return bad(`range ${lo}-${hi} runs backwards`)
    for (let v = lo; v <= hi; v += step) values.add(field.name === 'day of week' && v === 7 ? 0 : v)
  }
  return {ok: true, values}
}

export function parseCron(source: string): {ok: true, cron: Cron} | {ok: false, errors: string[]} {
  const parts = source.trim().split(/\s+/)
  if (parts.length !== 5) return {ok: false, errors: [`${JSON.stringify(source)} has ${parts.length} field(s); a schedule has five: minute hour day-of-month month day-of-week, e.g. "0 2 * * 6"`]}
  const errors: string[] = []
  const sets = parts.map((p, i) => {
    const r = parseField(p, FIELDS[i]!)
    if (!r.ok) errors.push(r.error)
    return r.ok ? r.values : new Set<number>()
  })
  if (errors.length > 0) return {ok: false, errors}
  const [minutes, hours, days, months, weekdays] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>]
  return {ok: true, cron: {source, minutes, hours, days, months, weekdays, dayRestricted: parts[2] !== '*', weekdayRestricted: parts[4] !== '*'}}
}

function dayMatches(cron: Cron, date: number): boolean {
  const d = new Date(date)
  if (!cron.months.has(d.getUTCMonth() + 1)) return false
  const dom = cron.days.has(d.getUTCDate())
  const dow = cron.weekdays.has(d.getUTCDay())
  if (cron.dayRestricted && cron.weekdayRestricted) return dom || dow
  return dom && dow
}

/** Instants in [from, to] at which the schedule fires, ascending. */
export function firesBetween(cron: Cron, from: number, to: number, tz: string): number[] {
  const out: number[] = []
  const last = wallTime(to, tz).date
  // A day early: the local date of `from` may start before it in UTC terms.
  for (let date = addDays(wallTime(from, tz).date, -1); date <= last; date = addDays(date, 1)) {
    if (!dayMatches(cron, date)) continue
    for (const h of [...cron.hours].sort((a, b) => a - b)) {
      for (const m of [...cron.minutes].sort((a, b) => a - b)) {
        for (const t of instantsOfWall(date, h * 60 + m, tz)) if (t >= from && t <= to) out.push(t)
      }
    }
  }
  return [...new Set(out)].sort((a, b) => a - b)
}

/** The first firing at or after `from`, looking up to `horizonDays` ahead; null when none. */
export function nextFire(cron: Cron, from: number, tz: string, horizonDays = 400): number | null {
  const DAY = 86_400_000
  for (let start = from; start < from + horizonDays * DAY; start += 31 * DAY) {
    const hit = firesBetween(cron, start, Math.min(start + 31 * DAY, from + horizonDays * DAY) - 1, tz)[0]
    if (hit !== undefined) return hit
  }
  return null
}
