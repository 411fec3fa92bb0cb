/** When the agent polls: the interval, the daily windows, downtime and the time zone they are read in. */
import {parseDuration} from '../../util/duration.ts'
import {parsePeriod} from '../schedule/windows.ts'
import {invalid, text, type Origin} from './values.ts'

export const DEFAULT_POLL_MS = 300_000
const MIN_POLL_MS = 1_000

/**
 * Milliseconds in a duration (seconds, `5m`/`1h30m`, ISO 8601 `PT5M`), as the scheduler reads
 * them; null instead of an exception so the caller can name the setting.
 */
export function parseDurationMs(value: unknown): number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null
  try {
    return parseDuration(value)
  } catch {
    return null
  }
}

export function pollRate(o: Origin, value: unknown): number {
  const accepted = 'seconds (300), a duration such as 90s, 5m or 1h, or ISO 8601 such as PT5M; at least 1s'
  const ms = parseDurationMs(value)
  if (ms === null || ms < MIN_POLL_MS) throw invalid(o, value, accepted)
  return ms
}

export function pollPeriod(o: Origin, value: unknown): string[] {
  const accepted = "daily windows 'HH:MM-HH:MM', e.g. ['06:00-22:00'] (a comma-separated list on the command line)"
  const list = typeof value === 'string' ? value.split(',') : value
  if (!Array.isArray(list) || list.length === 0) throw invalid(o, value, accepted)
  return list.map(item => {
    if (typeof item !== 'string') throw invalid(o, item, accepted)
    try {
      parsePeriod(item)
    } catch (err) {
      throw invalid(o, item, accepted, (err as Error).message)
    }
    return item.trim()
  })
}

/** Handed to the scheduler as written; it validates them. */
export function downtimeWindows(o: Origin, v: unknown): unknown[] {
  if (!Array.isArray(v)) throw invalid(o, v, 'a list of downtime windows')
  return v
}

export function timezone(o: Origin, value: unknown): string {
  const tz = text(o, value, "an IANA time zone such as 'UTC' or 'Europe/Berlin'")
  try {
    new Intl.DateTimeFormat('en-US', {timeZone: tz})
  } catch {
    throw invalid(o, value, "an IANA time zone such as 'UTC' or 'Europe/Berlin'", 'unknown time zone')
  }
  return tz
}
