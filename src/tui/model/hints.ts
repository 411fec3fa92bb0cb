/**
 * The key hints in the footer. A terminal too narrow for all of them first shortens, then drops
 * the least important ones; the way out is pinned and survives any width.
 */
import {displayWidth} from './format.ts'
import {text, type Line} from './lines.ts'

export interface Hint {
  key: string
  label: string
  /** Lower is more important; the least important hint goes first when space runs out. */
  rank: number
  /** The key explains itself (arrows, Tab): when space is short, the label goes first. */
  terse?: boolean
  /** Never dropped: how to quit. */
  pinned?: boolean
}

const SEPARATOR = ' · '

export const QUIT: Hint = {key: 'q', label: 'quit', rank: 0, pinned: true}
/** Where `q` is typed or answers a question, Ctrl+C still quits. */
export const QUIT_ANYWHERE: Hint = {key: 'Ctrl+C', label: 'quit', rank: 0, pinned: true}

export function hintText(h: Hint, short = false): string {
  return short ? h.key : `${h.key} ${h.label}`
}

function widthOf(hints: readonly {hint: Hint, short: boolean}[]): number {
  return hints.reduce((n, h, i) => n + displayWidth(hintText(h.hint, h.short)) + (i > 0 ? SEPARATOR.length : 0), 0)
}

/**
 * The hints that fit in `width` columns, in their order: first the least important ones are
 * shortened, then dropped, until the rest fits. Pinned hints stay whatever the width.
 */
export function fitHints(hints: readonly Hint[], width: number): {hint: Hint, short: boolean}[] {
  let shown = hints.map(hint => ({hint, short: false}))
  const leastFirst = [...hints].sort((a, b) => b.rank - a.rank)
  for (const h of leastFirst) {
    if (widthOf(shown) <= width) return shown
    if (h.terse) shown = shown.map(s => (s.hint === h ? {...s, short: true} : s))
  }
  for (const h of leastFirst) {
    if (widthOf(shown) <= width) return shown
    if (!h.pinned) shown = shown.filter(s => s.hint !== h)
  }
  return shown
}

/** The footer line: keys stand out, their meaning is dim. */
export function hintLine(hints: readonly Hint[], width: number): Line {
  const line: Line = [text(' ')]
  fitHints(hints, width - 1).forEach(({hint, short}, i) => {
    if (i > 0) line.push(text(SEPARATOR, 'dim'))
    line.push(text(hint.key, 'cyan'))
    if (!short) line.push(text(` ${hint.label}`, 'dim'))
  })
  return line
}
