/**
 * Pure text formatting for terminal and pipe. A terminal gets aligned columns, colour and
 * relative times; a pipe gets stable tab-separated lines with ISO timestamps.
 */

export interface OutputContext {
  /** stdout is a terminal. */
  tty: boolean
  /** Colour allowed: a terminal and NO_COLOR unset or empty. */
  color: boolean
  /** Reference point for relative times. */
  now: Date
}

export function outputContext(options: {isTTY: boolean | undefined; env: Record<string, string | undefined>; now?: Date}): OutputContext {
  const tty = options.isTTY === true
  return {tty, color: tty && !options.env.NO_COLOR, now: options.now ?? new Date()}
}

export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan'

const SGR: Record<Style, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
}

export function paint(text: string, style: Style | undefined, ctx: Pick<OutputContext, 'color'>): string {
  if (!style || !ctx.color || text === '') return text
  const [on, off] = SGR[style]
  return `\u001B[${on}m${text}\u001B[${off}m`
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matches terminal colour sequences
const ANSI = /\u001B\[[0-9;]*m/g

export function visibleLength(text: string): number {
  return [...text.replace(ANSI, '')].length
}

/** One cell: plain text, or text with a style applied only on colour terminals. */
export type Cell = string | {text: string; style?: Style}

function cellText(cell: Cell, ctx: OutputContext): string {
  if (typeof cell === 'string') return cell
  return paint(cell.text, cell.style, ctx)
}

/** A pipe must never see a tab or newline inside a field. */
function flatten(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ')
}

/**
 * Rows as a table. On a terminal: a header and columns aligned by two spaces. Piped: one
 * tab-separated line per row and no header, so `cut -f1` yields ids.
 */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[], ctx: OutputContext): string {
  if (!ctx.tty) return rows.map(row => row.map(c => flatten(typeof c === 'string' ? c : c.text)).join('\t')).join('\n')
  const cells = rows.map(row => row.map(c => cellText(c, ctx)))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map(r => visibleLength(r[i] ?? ''))))
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleLength(v)))))
      .join('  ')
      .trimEnd()
  return [line(headers.map(h => paint(h.toUpperCase(), 'bold', ctx))), ...cells.map(line)].join('\n')
}

/** A labelled value: `label` for people, `key` for scripts reading piped output. */
export interface Field {
  label: string
  key: string
  value: Cell
}

/** Label/value lines: aligned labels on a terminal, `key<TAB>value` when piped. */
export function fields(items: readonly Field[], ctx: OutputContext, indent = ''): string {
  if (!ctx.tty) return items.map(f => `${f.key}\t${flatten(typeof f.value === 'string' ? f.value : f.value.text)}`).join('\n')
  const width = Math.max(0, ...items.map(f => f.label.length))
  return items.map(f => `${indent}${paint(f.label.padEnd(width), 'dim', ctx)}  ${cellText(f.value, ctx)}`.trimEnd()).join('\n')
}

/** A titled block on a terminal; piped, only the body (keys carry the structure). */
export function section(title: string, body: string, ctx: OutputContext): string {
  if (!body) return ''
  return ctx.tty ? `${paint(title, 'bold', ctx)}\n${body}` : body
}

/** Joins non-empty blocks with a blank line on a terminal, a newline when piped. */
export function blocks(parts: readonly string[], ctx: OutputContext): string {
  return parts.filter(p => p !== '').join(ctx.tty ? '\n\n' : '\n')
}

/** "3m ago" / "in 2d"; dates further than 30 days away are shown as the date. */
export function relativeTime(iso: string, now: Date): string {
  const then = Date.parse(iso)
  if (Number.isNaN(then)) return iso
  const seconds = Math.round((now.getTime() - then) / 1000)
  const abs = Math.abs(seconds)
  if (abs < 5) return 'just now'
  let value: number
  let unit: string
  if (abs < 60) [value, unit] = [abs, 's']
  else if (abs < 3600) [value, unit] = [Math.floor(abs / 60), 'm']
  else if (abs < 86_400) [value, unit] = [Math.floor(abs / 3600), 'h']
  else if (abs < 30 * 86_400) [value, unit] = [Math.floor(abs / 86_400), 'd']
  else return new Date(then).toISOString().slice(0, 10)
  return seconds >= 0 ? `${value}${unit} ago` : `in ${value}${unit}`
}

/** A timestamp for display: relative on a terminal, ISO 8601 when piped. */
export function formatTime(iso: string | null | undefined, ctx: OutputContext, missing = 'never'): string {
  if (!iso) return ctx.tty ? missing : '-'
  return ctx.tty ? relativeTime(iso, ctx.now) : iso
}

/** Exactly one JSON document, newline-terminated. */
export function jsonDocument(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

/** `{a: "1", b: "2"}` → `a=1, b=2` (sorted for stable output). */
export function keyValues(record: Record<string, unknown> | null | undefined, separator = ', '): string {
  if (!record) return ''
  return Object.keys(record)
    .sort()
    .map(k => `${k}=${scalar(record[k])}`)
    .join(separator)
}

export function scalar(value: unknown): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value
  return JSON.stringify(value)
}
