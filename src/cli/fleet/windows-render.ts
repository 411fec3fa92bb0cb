import type {UpdateWindow} from '../../operator-contract/strategy.ts'
import {type OutputContext, table} from '../output.ts'

export function renderWindows(windows: readonly UpdateWindow[], ctx: OutputContext): string {
  if (!ctx.tty) return windows.map(w => [w.name, w.selector, w.schedule, w.duration, w.timeZone, w.open ? 'open' : 'closed', w.nextOpenAt ?? '-'].join('\t')).join('\n')
  if (windows.length === 0) return 'no update windows — rollouts may advance any device at any time; add one with: margo window add'
  return table(['name', 'selector', 'schedule', 'duration', 'time zone', 'now', 'next opens'], windows.map(w => [w.name, w.selector, w.schedule, w.duration, w.timeZone, w.open ? 'open' : 'closed', w.nextOpenAt ?? '-']), ctx)
}
