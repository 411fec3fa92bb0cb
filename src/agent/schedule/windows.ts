/**
 * When the agent may talk to the WFM (spec §7, A21).
 *
 * Configuration (YAML or JSON; every field optional):
 *
 *   timezone: Europe/Berlin            # IANA name; default: the host's zone
 *   pollingPeriods:                    # daily hours in which desired state is polled
 *     - "06:00-22:00"                  # default: ["00:00-24:00"], the whole day
 *     - "22:00-02:00"                  # a period may wrap past midnight
 *   downtime:                          # known communication downtime: no requests at all
 *     - from: "02:00"                  # recurring, local wall time, every day …
 *       to: "04:30"
 *     - days: [sat, sun]               # … or only on these days (mon…sun, full names, ranges
 *       from: "22:00"                  #     like mon-fri); the day is the one the window
 *       to: "06:00"                    #     starts on, so this one ends Sunday and Monday 06:00
 *     - start: 2026-05-01T08:00:00Z    # one-off; without an offset the time is read in
 *       end: "2026-05-03T18:00"        #     `timezone`
 *
 * Times are "HH:MM" or "H:MM", 00:00…24:00 (24:00 only as an end), and must be quoted in YAML
 * 1.1 loaders (which would read 02:00 as a number). `from` is inclusive, `to` exclusive; `to` earlier than `from` wraps
 * midnight, and an empty window (`from` equal to `to`) is refused as a likely mistake.
 * Windows are wall-clock windows: when the clocks spring forward over part of a window that
 * part does not happen, and when they go back the repeated hour is inside a window twice.
 */
import {addDays, checkTimeZone, hostTimeZone, instantsOfWall, offsetChanges, wallTime, type WallTime} from '../../util/zoned.ts'

/** Minutes of the day; `to` is 1…1440 and is at or below `from` when the period wraps midnight. */
export interface DailyPeriod {
  from: number
  to: number
}

export type DowntimeWindow =
  | {kind: 'recurring', /** weekdays on which the window starts, 0 = Sunday; null for every day */ days: number[] | null, from: number, to: number}
  | {kind: 'once', start: number, end: number}

export interface WindowConfig {
  timezone: string
  pollingPeriods: DailyPeriod[]
  downtime: DowntimeWindow[]
}

export interface WindowInput {
  timezone?: string
  pollingPeriods?: string | readonly string[]
  downtime?: readonly unknown[]
}

export const WHOLE_DAY: DailyPeriod = {from: 0, to: 1440}

/** Parses and checks the configuration; throws an error naming the offending field. */
export function parseWindows(input: WindowInput = {}): WindowConfig {
  const raw = input.pollingPeriods
  const list = raw === undefined ? null : typeof raw === 'string' ? raw.split(',') : raw
  if (list !== null && list.length === 0) throw new Error('pollingPeriods: must list at least one period (use "00:00-24:00" for the whole day)')
  const pollingPeriods = list === null ? [WHOLE_DAY] : list.map((p, i) => withField(`pollingPeriods[${i}]`, () => parsePeriod(p)))
  if (input.downtime !== undefined && !Array.isArray(input.downtime)) throw new Error('downtime: must be a list of windows')
  // The host's zone is looked up when a window is read in it: the runtime's zone database
  // (ICU) stays resident once touched, megabytes for an agent that polls the whole day.
  if (input.timezone === undefined && (input.downtime ?? []).length === 0 && pollingPeriods.every(isWholeDay)) {
    let zone: string | undefined
    return {get timezone() { return zone ??= checkTimeZone(hostTimeZone()) }, pollingPeriods, downtime: []}
  }
  const timezone = checkTimeZone(input.timezone ?? hostTimeZone())
  const downtime = (input.downtime ?? []).map((w, i) => withField(`downtime[${i}]`, () => parseDowntimeWindow(w, timezone)))
  return {timezone, pollingPeriods, downtime}
}

const isWholeDay = (p: DailyPeriod) => p.from === 0 && p.to === 1440

/**
 * A daily window, `"06:00-22:00"` (or `"6:00-22:00"`, `"22:00-06:00"` across midnight). The one
 * grammar for daily windows: the agent's configuration checks them with this too.
 */
export function parsePeriod(text: string): DailyPeriod {
  if (typeof text !== 'string') throw new Error(`must be a string like "06:00-22:00", got ${JSON.stringify(text)}`)
  const m = /^\s*(\S+)\s*-\s*(\S+)\s*$/.exec(text)
  if (!m) throw new Error(`must look like "06:00-22:00", got ${JSON.stringify(text)}`)
  return span(parseClock(m[1]!, 'start'), parseClock(m[2]!, 'end'))
}

/** Whether `text` is a daily window parsePeriod accepts. */
export function isDailyWindow(text: unknown): boolean {
  try {
    parsePeriod(text as string)
    return true
  } catch {
    return false
  }
}

export function parseDowntimeWindow(value: unknown, timezone: string): DowntimeWindow {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('must be an object with from/to or start/end')
  const w = value as Record<string, unknown>
  if ('start' in w || 'end' in w) {
    const start = withField('start', () => parseInstant(w.start, timezone))
    const end = withField('end', () => parseInstant(w.end, timezone))
    if (end <= start) throw new Error('end must be after start')
    return {kind: 'once', start, end}
  }
  const from = withField('from', () => parseClock(w.from, 'start'))
  const to = withField('to', () => parseClock(w.to, 'end'))
  const days = w.days === undefined ? null : withField('days', () => parseDays(w.days))
  return {kind: 'recurring', days, ...span(from, to)}
}

export function isPollingAllowed(now: Date, cfg: WindowConfig): boolean {
  return pollingAt(now.getTime(), cfg)
}

export function inDowntime(now: Date, cfg: WindowConfig): boolean {
  return downtimeAt(now.getTime(), cfg)
}

/** `now` when polling is allowed now, else the first instant it becomes allowed. */
export function nextPollingStart(now: Date, cfg: WindowConfig): Date {
  const t = now.getTime()
  if (pollingAt(t, cfg)) return now
  const edges = new Set(cfg.pollingPeriods.flatMap(p => [p.from, p.to % 1440]))
  return new Date(nextChange(t, cfg.timezone, x => pollingAt(x, cfg), edges, []) ?? t + HORIZON_MS)
}

/**
 * Null outside downtime; inside, the first instant no window covers, so adjoining or
 * overlapping windows count as one. A downtime that does not end within the search
 * horizon yields the horizon's end, at which the caller simply asks again.
 */
export function downtimeEnd(now: Date, cfg: WindowConfig): Date | null {
  const t = now.getTime()
  if (!downtimeAt(t, cfg)) return null
  const edges = new Set<number>()
  const instants: number[] = []
  for (const w of cfg.downtime) {
    if (w.kind === 'recurring') edges.add(w.from).add(w.to % 1440)
    else instants.push(w.start, w.end)
  }
  return new Date(nextChange(t, cfg.timezone, x => downtimeAt(x, cfg), edges, instants) ?? t + HORIZON_MS)
}

const DAY_MS = 86_400_000
/** Recurring windows repeat weekly, so a little over a week of search finds every recurring edge. */
const HORIZON_MS = 9 * DAY_MS
const CHUNKS_MS = [2 * DAY_MS, HORIZON_MS]

function pollingAt(t: number, cfg: WindowConfig): boolean {
  if (cfg.pollingPeriods.length === 0 || cfg.pollingPeriods.some(isWholeDay)) return true
  const m = wallTime(t, cfg.timezone).minuteOfDay
  return cfg.pollingPeriods.some(p => inSpan(m, p.from, p.to))
}

function downtimeAt(t: number, cfg: WindowConfig): boolean {
  let wall: WallTime | undefined
  for (const w of cfg.downtime) {
    if (w.kind === 'once') {
      if (t >= w.start && t < w.end) return true
      continue
    }
    wall ??= wallTime(t, cfg.timezone)
    const m = wall.minuteOfDay
    const startsOn = (weekday: number) => w.days === null || w.days.includes(weekday)
    if (w.from < w.to) {
      if (startsOn(wall.weekday) && m >= w.from && m < w.to) return true
    } else if ((startsOn(wall.weekday) && m >= w.from) || (startsOn((wall.weekday + 6) % 7) && m < w.to)) {
      return true
    }
  }
  return false
}

function inSpan(m: number, from: number, to: number): boolean {
  return from < to ? m >= from && m < to : m >= from || m < to
}

/**
 * The first instant after `t` at which `inside` differs from its value at `t`. Membership
 * only changes where the wall clock reaches a window edge, where the offset changes (the
 * clock jumps over or back across an edge) or at a one-off boundary, so only those instants
 * are examined: first within two days, then within the horizon.
 */
function nextChange(t: number, tz: string, inside: (t: number) => boolean, edgeMinutes: Set<number>, instants: number[]): number | null {
  const now = inside(t)
  let from = t
  for (const span of CHUNKS_MS) {
    const to = t + span
    const candidates = new Set<number>()
    const today = wallTime(t, tz).date
    for (let d = -1; addDays(today, d) <= to + DAY_MS; d++) {
      for (const m of edgeMinutes) for (const c of instantsOfWall(addDays(today, d), m, tz)) candidates.add(c)
    }
    for (const c of offsetChanges(from, to, tz)) candidates.add(c)
    for (const c of instants) candidates.add(c)
    const ordered = [...candidates].filter(c => c > from && c <= to).sort((a, b) => a - b)
    for (const c of ordered) if (inside(c) !== now) return c
    from = to
  }
  return null
}

function span(from: number, to: number): {from: number, to: number} {
  if (from === 1440) throw new Error('a window cannot start at 24:00')
  if (from === to % 1440 && !(from === 0 && to === 1440)) throw new Error('the window is empty: from equals to (use 00:00-24:00 for the whole day)')
  return {from, to}
}

function parseClock(value: unknown, which: 'start' | 'end'): number {
  if (typeof value !== 'string') throw new Error(`the ${which} must be a quoted time "HH:MM", got ${JSON.stringify(value)}`)
  const m = /^(\d{1,2}):(\d{2})$/.exec(value.trim())
  const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN
  if (!m || Number(m[2]) > 59 || minutes > 1440) throw new Error(`the ${which} must be a time from 00:00 to 24:00, got ${JSON.stringify(value)}`)
  return minutes
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
const FULL_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']

function dayIndex(name: string): number {
  const n = name.trim().toLowerCase()
  const i = DAY_NAMES.indexOf(n)
  const j = i >= 0 ? i : FULL_NAMES.indexOf(n)
  if (j < 0) throw new Error(`unknown day ${JSON.stringify(name)}: use mon, tue, wed, thu, fri, sat or sun`)
  return j
}

function parseDays(value: unknown): number[] {
  const items = typeof value === 'string' ? value.split(',') : value
  if (!Array.isArray(items) || items.length === 0) throw new Error('must be a non-empty list of days such as [mon, tue] or [mon-fri]')
  const days = new Set<number>()
  for (const item of items) {
    if (typeof item !== 'string') throw new Error(`must list day names, got ${JSON.stringify(item)}`)
    const [a, b, ...rest] = item.split('-')
    if (rest.length > 0) throw new Error(`unknown day range ${JSON.stringify(item)}`)
    const first = dayIndex(a!)
    const last = b === undefined ? first : dayIndex(b)
    for (let d = first; ; d = (d + 1) % 7) {
      days.add(d)
      if (d === last) break
    }
  }
  return [...days].sort((a, b) => a - b)
}

function parseInstant(value: unknown, timezone: string): number {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new Error('is not a valid date')
    return value.getTime()
  }
  if (typeof value !== 'string') throw new Error(`must be an ISO 8601 date-time, got ${JSON.stringify(value)}`)
  const s = value.trim()
  const local = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(s)
  if (local) {
    const [, y, mo, d, h = '0', mi = '0', sec = '0'] = local
    const date = Date.UTC(Number(y), Number(mo) - 1, Number(d))
    const check = new Date(date)
    if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) {
      throw new Error(`is not a valid date-time: ${JSON.stringify(value)}`)
    }
    return instantsOfWall(date, Number(h) * 60 + Number(mi), timezone)[0]! + Number(sec) * 1000
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(s)) throw new Error(`must be an ISO 8601 date-time, got ${JSON.stringify(value)}`)
  const t = Date.parse(s)
  if (Number.isNaN(t)) throw new Error(`is not a valid date-time: ${JSON.stringify(value)}`)
  return t
}

function withField<T>(field: string, f: () => T): T {
  try {
    return f()
  } catch (e) {
    throw new Error(`${field}: ${(e as Error).message}`)
  }
}
