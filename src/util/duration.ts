/**
 * Durations as configuration writes them, in milliseconds:
 * - a number, or a string of digits (optionally with a fraction): seconds (`300`, `"1.5"`);
 * - ISO 8601 time durations: `PT5M`, `PT1H30M`, `PT0.5S`, `P1D`, `P1W` (a day is 24 hours,
 *   a week 7 days; years and months are refused because their length varies);
 * - compact units: `500ms`, `30s`, `5m`, `1h30m`, `2d`.
 * Anything else, negative or not finite, throws an error that quotes the value.
 */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new Error(`invalid duration ${v}: must be a non-negative number of seconds`)
    return Math.round(v * 1000)
  }
  const s = v.trim()
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000)

  const iso = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(s)
  if (iso && !/T$/i.test(s) && s.length > 1) {
    const [, w, d, h, m, sec] = iso
    const ms = n(w) * 604_800_000 + n(d) * 86_400_000 + n(h) * 3_600_000 + n(m) * 60_000 + n(sec) * 1000
    return Math.round(ms)
  }
  if (/^P[^T]*[YM]/i.test(s)) throw new Error(`invalid duration ${JSON.stringify(v)}: ISO 8601 years and months are not supported; use weeks, days, hours, minutes or seconds (e.g. PT5M, P1D)`)

  const compact = /^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/i.exec(s)
  if (compact && s !== '') {
    const [, d, h, m, sec, ms] = compact
    return Math.round(n(d) * 86_400_000 + n(h) * 3_600_000 + n(m) * 60_000 + n(sec) * 1000 + n(ms))
  }
  throw new Error(`invalid duration ${JSON.stringify(v)}: use seconds (300), ISO 8601 (PT5M, PT1H30M, P1D) or units (30s, 5m, 1h30m)`)
}

function n(part: string | undefined): number {
  return part === undefined ? 0 : Number(part)
}
