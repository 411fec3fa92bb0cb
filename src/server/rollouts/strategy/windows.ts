/**
 * Update windows: a schedule in a time zone, open for a duration after each firing, for the
 * devices a label selector matches. A device that matches one or more windows may only be
 * advanced while one of them is open; a device that matches none may be advanced any time.
 */
import {matchesSelector, parseSelector, type Selector} from '../../../operator-contract/selector.ts'
import {firesBetween, nextFire, parseCron, type Cron} from './cron.ts'

export interface WindowDef {
  name: string
  selector: string
  schedule: string
  durationMs: number
  timeZone: string
}

export interface CompiledWindow {
  def: WindowDef
  cron: Cron
  selector: Selector
}

export function compileWindow(def: WindowDef): CompiledWindow | null {
  const cron = parseCron(def.schedule)
  const selector = parseSelector(def.selector)
  return cron.ok && selector.ok ? {def, cron: cron.cron, selector: selector.selector} : null
}

/** Whether the window is open at `now`: a firing in (now − duration, now]. */
export function isOpen(w: CompiledWindow, now: number): boolean {
  return firesBetween(w.cron, now - w.def.durationMs + 1, now, w.def.timeZone).length > 0
}

/** When the window next opens at or after `now` (null: not within a year). */
export function nextOpening(w: CompiledWindow, now: number): number | null {
  return nextFire(w.cron, now, w.def.timeZone)
}

export interface WindowClock {
  /** Windows in force, with whether each is open now and when it next opens. */
  windows: {w: CompiledWindow, open: boolean, next: number | null}[]
}

/** Evaluates every window once for `now`; devices are then checked against the result. */
export function windowClock(windows: readonly CompiledWindow[], now: number): WindowClock {
  return {windows: windows.map(w => {
    const open = isOpen(w, now)
    return {w, open, next: open ? now : nextOpening(w, now)}
  })}
}

/** Whether a device with these labels may be advanced now, and if not, when it next may. */
export function deviceWindow(clock: WindowClock, labels: Record<string, string>): {open: true} | {open: false, next: number | null, windows: string[]} {
  const mine = clock.windows.filter(x => matchesSelector(x.w.selector, labels))
  if (mine.length === 0 || mine.some(x => x.open)) return {open: true}
  const nexts = mine.map(x => x.next).filter((t): t is number => t !== null)
  return {open: false, next: nexts.length ? Math.min(...nexts) : null, windows: mine.map(x => x.w.def.name)}
}
