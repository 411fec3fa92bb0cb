/**
 * What the screen is made of: lines of styled segments, already cut to the screen width. The
 * view models build these; the Ink components only map tones to colours.
 */
import {displayWidth, fit, layoutColumns, truncate} from './format.ts'

export type Tone = 'dim' | 'green' | 'yellow' | 'red' | 'cyan' | 'bold'

export interface Segment {
  text: string
  tone?: Tone
  /** The selected row. */
  inverse?: boolean
}

export type Line = Segment[]

export function text(value: string, tone?: Tone): Segment {
  return tone ? {text: value, tone} : {text: value}
}

export function lineText(line: Line): string {
  return line.map(s => s.text).join('')
}

/** Cuts a line to `width` columns, keeping the tones of what is left. */
export function clip(line: Line, width: number): Line {
  const out: Line = []
  let left = width
  for (const seg of line) {
    if (left <= 0) break
    const w = displayWidth(seg.text)
    if (w <= left) {
      out.push(seg)
      left -= w
    } else {
      out.push({...seg, text: truncate(seg.text, left)})
      left = 0
    }
  }
  return out
}

/** A table row: each cell fitted to its width, one space between cells. */
export function row(cells: readonly Segment[], widths: readonly number[]): Line {
  const out: Line = []
  cells.forEach((cell, i) => {
    const w = widths[i] ?? 0
    if (w <= 0) return
    if (out.length > 0) out.push({text: ' '})
    out.push({...cell, text: fit(cell.text, w)})
  })
  return out
}

/** Marks every segment of a line as selected and pads it to the full width, so the bar spans the screen. */
export function highlight(line: Line, width: number): Line {
  const used = displayWidth(lineText(line))
  const padded = used < width ? [...line, {text: ' '.repeat(width - used)}] : line
  return padded.map(s => ({...s, inverse: true}))
}

/**
 * Fits a line to `width` by cutting its flexible segments (names that may lose their end), the
 * widest first, as table columns are cut; the fixed segments stay whole.
 */
export function squeeze(line: readonly (Segment & {flex?: boolean})[], width: number): Line {
  const columns = line.map(s => ({header: '', width: displayWidth(s.text), ...(s.flex ? {flex: true, min: 1} : {})}))
  // layoutColumns puts a space between columns; segments carry their own spacing.
  const widths = layoutColumns(columns, width + Math.max(0, line.length - 1))
  return line.map(({flex: _flex, ...s}, i) => ({...s, text: truncate(s.text, widths[i]!)}))
}
