/**
 * Fixed-width text for the terminal. Every line the TUI draws is cut to the screen width here,
 * so a narrow terminal shows a shortened line instead of wrapped garbage.
 */

/** Display width of a string; wide (CJK, emoji) characters count two columns. */
export function displayWidth(text: string): number {
  let width = 0
  for (const ch of text) width += charWidth(ch)
  return width
}

function charWidth(ch: string): number {
  const code = ch.codePointAt(0) ?? 0
  if (code < 32 || (code >= 0x7f && code < 0xa0)) return 0
  if (code >= 0x300 && code <= 0x36f) return 0
  if (
    (code >= 0x1100 && code <= 0x115f) || (code >= 0x2e80 && code <= 0xa4cf) || (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) || (code >= 0xfe30 && code <= 0xfe4f) || (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) || (code >= 0x1f300 && code <= 0x1faff) || (code >= 0x20000 && code <= 0x3fffd)
  ) return 2
  return 1
}

/** Control characters from device- or package-supplied text would move the cursor; show them as spaces. */
export function sanitize(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this replaces
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
}

/** Cuts `text` to at most `width` columns, marking the cut with an ellipsis. */
export function truncate(text: string, width: number): string {
  const clean = sanitize(text)
  if (width <= 0) return ''
  if (displayWidth(clean) <= width) return clean
  let out = ''
  let used = 0
  for (const ch of clean) {
    const w = charWidth(ch)
    if (used + w > width - 1) break
    out += ch
    used += w
  }
  return `${out}…`
}

/** Exactly `width` columns: truncated, then padded with spaces. */
export function fit(text: string, width: number): string {
  const cut = truncate(text, width)
  return cut + ' '.repeat(Math.max(0, width - displayWidth(cut)))
}

/** Long ids (UUIDs, digests) shortened to their first characters, as people compare them. */
export function shortId(id: string, length = 8): string {
  return id.length > length + 1 ? `${id.slice(0, length)}…` : id
}

/** "42s", "20m", "3h", "5d": an age without the "ago", for narrow columns. */
export function shortAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h`
  return `${Math.floor(h / 24)}d`
}

/** "3m ago", relative to `now`; "never" for a missing time. */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never'
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return iso
  const diff = now - t
  return diff < 0 ? `in ${shortAge(-diff)}` : `${shortAge(diff)} ago`
}

/** What a table says about a column before it sees the rows: its header and whether it may be cut. */
export interface ColumnSpec {
  header: string
  /** May be cut (with an ellipsis) when the table is wider than the terminal; the widest such column gives first. */
  flex?: boolean
  /** The narrowest a flexible column is cut to; its header's width unless told. */
  min?: number
}

/** A column of a table: its header, the width it wants, and how it may change. */
export interface Column extends ColumnSpec {
  width: number
  /** Takes whatever width the others leave. */
  grow?: boolean
}

/** Columns as wide as their header or their widest cell, whichever is wider. */
export function measureColumns(specs: readonly ColumnSpec[], rows: readonly (readonly string[])[]): Column[] {
  return specs.map((spec, i) => ({...spec, width: rows.reduce((w, cells) => Math.max(w, displayWidth(sanitize(cells[i] ?? ''))), displayWidth(spec.header))}))
}

/** The width of a table whose columns all get what they want, one space between columns. */
export function naturalWidth(columns: readonly Column[]): number {
  return columns.reduce((sum, c) => sum + c.width, Math.max(0, columns.length - 1))
}

/**
 * Column widths for a total width. A growing column takes the room left over. When the
 * columns do not fit, the widest flexible column is cut first, one column at a time, down to
 * its minimum; only then do the others shrink, from the right. Columns are separated by one space.
 */
export function layoutColumns(columns: readonly Column[], total: number): number[] {
  const widths = columns.map(c => c.width)
  const growIndex = columns.findIndex(c => c.grow)
  let free = total - naturalWidth(columns)
  if (growIndex >= 0 && free > 0) {
    widths[growIndex]! += free
    free = 0
  }
  const floor = columns.map(c => (c.flex ? Math.min(c.width, c.min ?? displayWidth(c.header)) : c.width))
  while (free < 0) {
    let widest = -1
    widths.forEach((w, i) => {
      if (w > floor[i]! && (widest < 0 || w > widths[widest]!)) widest = i
    })
    if (widest < 0) break
    widths[widest]!--
    free++
  }
  // Not enough room even for the minimums: take columns away from the right.
  for (let i = widths.length - 1; free < 0 && i >= 0; i--) {
    const take = Math.min(widths[i]!, -free)
    widths[i]! -= take
    free += take
  }
  return widths
}

/** One table line from cells and widths (see layoutColumns). */
export function tableLine(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => fit(c, widths[i] ?? 0)).join(' ')
}
