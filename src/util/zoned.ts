/**
 * Wall-clock time in an IANA time zone, built on `Intl.DateTimeFormat` only, so it follows
 * the host's time zone database across DST changes without a library. Instants are epoch
 * milliseconds. A "local date" is a calendar date in the zone, carried as a UTC-midnight
 * epoch so date arithmetic never meets DST.
 */

export interface WallTime {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  /** 0 = Sunday … 6 = Saturday */
  weekday: number
  /** hour * 60 + minute */
  minuteOfDay: number
  /** The calendar date as a UTC-midnight epoch, for date arithmetic. */
  date: number
}

const DAY_MS = 86_400_000
const MINUTE_MS = 60_000
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    })
    formatters.set(tz, f)
  }
  return f
}

/** The host's zone, as the runtime reports it; UTC when it reports none. */
export function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

/** Throws a readable error for a name the runtime's zone database does not know. */
export function checkTimeZone(tz: string): string {
  try {
    return formatter(tz).resolvedOptions().timeZone
  } catch {
    throw new Error(`unknown time zone ${JSON.stringify(tz)}: use an IANA name such as Europe/Berlin or UTC`)
  }
}

export function wallTime(t: number, tz: string): WallTime {
  const parts: Record<string, number> = {}
  for (const p of formatter(tz).formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value)
  const year = parts.year!, month = parts.month!, day = parts.day!
  const hour = parts.hour! % 24, minute = parts.minute!, second = parts.second!
  const date = Date.UTC(year, month - 1, day)
  return {year, month, day, hour, minute, second, weekday: new Date(date).getUTCDay(), minuteOfDay: hour * 60 + minute, date}
}

/** Minutes east of UTC in effect at instant `t`. */
export function offsetMinutes(t: number, tz: string): number {
  const w = wallTime(t, tz)
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second)
  return Math.round((asUtc - Math.floor(t / 1000) * 1000) / MINUTE_MS)
}

/**
 * Every instant at which the zone's clock reads `minuteOfDay` (0…1440) on local `date`:
 * usually one; two when the clocks go back and the time happens twice; and when the clocks
 * spring forward over it, the instant of the jump, the first moment the clock reads later.
 */
export function instantsOfWall(date: number, minuteOfDay: number, tz: string): number[] {
  const naive = date + minuteOfDay * MINUTE_MS
  const offsets = new Set([offsetMinutes(naive - DAY_MS, tz), offsetMinutes(naive + DAY_MS, tz)])
  const tries = [...offsets].map(o => ({o, t: naive - o * MINUTE_MS}))
  const valid = tries.filter(({o, t}) => offsetMinutes(t, tz) === o).map(({t}) => t).sort((a, b) => a - b)
  if (valid.length > 0) return valid
  const times = tries.map(x => x.t)
  return [firstWithOffset(Math.min(...times), Math.max(...times), tz)]
}

/** The first minute in (lo, hi] whose offset is the one in effect at `hi`. */
function firstWithOffset(lo: number, hi: number, tz: string): number {
  const target = offsetMinutes(hi, tz)
  let a = Math.floor(lo / MINUTE_MS)
  let b = Math.floor(hi / MINUTE_MS)
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2)
    if (offsetMinutes(mid * MINUTE_MS, tz) === target) b = mid
    else a = mid
  }
  return b * MINUTE_MS
}

/**
 * Instants in (from, to] where the zone's offset changes. Sampled every 6 hours, which no
 * real zone undercuts between two changes, then narrowed to the minute.
 */
export function offsetChanges(from: number, to: number, tz: string): number[] {
  const step = 6 * 3_600_000
  const out: number[] = []
  let prevT = from
  let prev = offsetMinutes(from, tz)
  for (let t = Math.min(from + step, to); ; t = Math.min(t + step, to)) {
    const o = offsetMinutes(t, tz)
    if (o !== prev) out.push(firstWithOffset(prevT, t, tz))
    prev = o
    prevT = t
    if (t >= to) break
  }
  return out
}

export function addDays(date: number, days: number): number {
  return date + days * DAY_MS
}
