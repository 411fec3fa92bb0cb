/**
 * Update windows as operators manage them (`margo window add|list|remove`): checked in full
 * before anything is stored, every problem named.
 */
import {parseDuration} from '../../util/duration.ts'
import {checkTimeZone} from '../../util/zoned.ts'
import {describeSelectorError, formatSelector, parseSelector} from '../../operator-contract/selector.ts'
import {conflict, invalid, notFound} from '../domain-errors.ts'
import type {Store} from '../store/store.ts'
import {deleteWindow, insertWindow, listWindows} from '../store/waves-repo.ts'
import {isDnsLabel} from '../deployments/names.ts'
import {parseCron} from './strategy/cron.ts'
import {compileWindow, nextOpening, isOpen} from './strategy/windows.ts'
import type {UpdateWindow, UpdateWindowRequest} from '../../operator-contract/strategy.ts'

export function windowView(w: ReturnType<typeof listWindows>[number], now: Date): UpdateWindow {
  const compiled = compileWindow(w)
  const open = compiled ? isOpen(compiled, now.getTime()) : false
  const next = compiled && !open ? nextOpening(compiled, now.getTime()) : null
  return {name: w.name, selector: w.selector, schedule: w.schedule, duration: `${Math.round(w.durationMs / 1000)}s`, durationMs: w.durationMs, timeZone: w.timeZone, createdAt: w.createdAt, open, nextOpenAt: next === null ? null : new Date(next).toISOString()}
}

export function createWindowService({store, now}: {store: Store, now: () => Date}) {
  return {
    list: (): UpdateWindow[] => listWindows(store).map(w => windowView(w, now())),
    add(req: UpdateWindowRequest): UpdateWindow {
      const problems: {path: string, message: string}[] = []
      const name = typeof req.name === 'string' ? req.name : ''
      if (!isDnsLabel(name)) problems.push({path: 'name', message: `${JSON.stringify(req.name)} is not a DNS label`})
      const sel = parseSelector(typeof req.selector === 'string' ? req.selector : '')
      if (typeof req.selector !== 'string') problems.push({path: 'selector', message: 'a label selector is required, e.g. site=berlin'})
      else if (!sel.ok) problems.push({path: 'selector', message: describeSelectorError(sel.error)})
      const cron = parseCron(typeof req.schedule === 'string' ? req.schedule : '')
      if (!cron.ok) problems.push(...cron.errors.map(message => ({path: 'schedule', message})))
      let durationMs = 0
      try {
        durationMs = parseDuration(typeof req.duration === 'string' ? req.duration : String(req.duration))
        if (durationMs < 60_000) problems.push({path: 'duration', message: 'a window lasts at least 1m'})
      } catch (err) {
        problems.push({path: 'duration', message: (err as Error).message})
      }
      let timeZone = 'UTC'
      try {
        timeZone = checkTimeZone(req.timeZone ?? 'UTC')
      } catch (err) {
        problems.push({path: 'timeZone', message: (err as Error).message})
      }
      if (problems.length > 0) throw invalid('invalid_window', `${problems.length} problem(s) in window ${name || '(unnamed)'}; nothing was created`, problems)
      if (listWindows(store).some(w => w.name === name)) throw conflict(`window ${name} exists — margo window remove ${name} first`, 'window_exists')
      const at = now().toISOString()
      insertWindow(store, {name, selector: sel.ok ? formatSelector(sel.selector) : '', schedule: req.schedule.trim(), durationMs, timeZone}, at)
      return windowView({name, selector: sel.ok ? formatSelector(sel.selector) : '', schedule: req.schedule.trim(), durationMs, timeZone, createdAt: at}, now())
    },
    remove(name: string): {name: string} {
      if (!deleteWindow(store, name)) throw notFound('window', name, 'run: margo window list')
      return {name}
    },
  }
}

export type WindowService = ReturnType<typeof createWindowService>
