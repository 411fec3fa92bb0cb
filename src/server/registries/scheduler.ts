/** Periodic registry syncs for `margo serve`. */
import {listRegistries} from '../store/registries-repo.ts'
import {isSyncing, syncRegistry, type SyncDeps} from './sync.ts'

export interface DueInput {
  name: string
  intervalSeconds: number
  lastSyncAt: string | null
}

/**
 * The registries to sync now (pure): not running, and never synced, or last started (in this
 * process) or last finished (as stored) at least one interval ago.
 */
export function dueRegistries(registries: readonly DueInput[], running: ReadonlySet<string>, lastStarted: ReadonlyMap<string, number>, nowMs: number): string[] {
  return registries
    .filter(r => {
      if (running.has(r.name)) return false
      const stored = r.lastSyncAt ? Date.parse(r.lastSyncAt) : Number.NaN
      const last = Math.max(lastStarted.get(r.name) ?? Number.NEGATIVE_INFINITY, Number.isNaN(stored) ? Number.NEGATIVE_INFINITY : stored)
      return nowMs - last >= r.intervalSeconds * 1000
    })
    .map(r => r.name)
}

export interface SchedulerOptions {
  /** How often the schedule is looked at; default one second. */
  tickMs?: number
}

/**
 * Syncs each registry every `intervalSeconds` (registries added or removed later are picked up
 * at the next tick). Returns the function that stops it; a sync already running finishes.
 */
export function startRegistryScheduler(ctx: SyncDeps, options: SchedulerOptions = {}): () => void {
  const lastStarted = new Map<string, number>()
  let stopped = false
  const tick = () => {
    if (stopped) return
    let registries: ReturnType<typeof listRegistries>
    try {
      registries = listRegistries(ctx.store)
    } catch (e) {
      ctx.log.error('registry.schedule_failed', {error: (e as Error).message})
      return
    }
    const running = new Set(registries.filter(r => isSyncing(ctx.store, r.name)).map(r => r.name))
    const now = ctx.now().getTime()
    for (const name of dueRegistries(registries, running, lastStarted, now)) {
      lastStarted.set(name, now)
      syncRegistry(ctx, name)?.catch(e => ctx.log.error('registry.sync_failed', {registry: name, error: (e as Error).message}))
    }
  }
  const timer = setInterval(tick, options.tickMs ?? 1000)
  timer.unref?.()
  queueMicrotask(tick)
  return () => {
    stopped = true
    clearInterval(timer)
  }
}
