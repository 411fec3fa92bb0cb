/**
 * What the screen is made of: lines of styled segments, already cut to the screen width. The
 * view models build these; the Ink components only map tones to colours.
 */
import {displayWidth, fit, truncate} from './format.ts'

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
