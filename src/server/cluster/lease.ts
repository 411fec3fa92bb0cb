import type {ClusterSignals, SqlDatabase as Database} from '../store/engine.ts'
import type {Logger} from '../../util/log.ts'

/** A lease lasts this long unless renewed; a holder that died is replaced within about this time. */
export const LEASE_TTL_MS = 5_000
export const LEASE_RENEW_MS = 1_000

/**
 * Claims or renews `name` for `holder` until `nowMs + ttlMs`: it succeeds when the lease is free,
 * expired or already ours. One statement, so two processes never both win.
 */
export function tryLease(db: Database, name: string, holder: string, nowMs: number, ttlMs = LEASE_TTL_MS): boolean {
  const r = db.query(`INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
    ON CONFLICT (name) DO UPDATE SET holder = ?2, expires_at = ?3 WHERE leases.holder = ?2 OR leases.expires_at < ?4`)
    .run(name, holder, nowMs + ttlMs, nowMs)
  return r.changes > 0
}

/** Gives the lease up (a clean stop), so another process takes over at once rather than after the TTL. */
export function releaseLease(db: Database, name: string, holder: string) {
  db.query('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder)
}

export interface Singleton {
  /** Whether this process runs the job now. */
  readonly running: boolean
  stop(): void
}

/**
 * Runs `start` in exactly one of the processes sharing `db`: the one holding lease `name` (a row
 * of the `leases` table on SQLite; on PostgreSQL an advisory lock, see runAsLeader).
 * Every process tries each `renewMs`; the holder renews. A holder that cannot renew before its
 * lease runs out stops the job first, so two never overlap while clocks agree.
 */
export function runAsSingleton(opts: {db: Database, name: string, holder: string, log: Logger, start: () => () => void, now?: () => number, ttlMs?: number, renewMs?: number}): Singleton {
  if (opts.db.signals) return runAsLeader({...opts, signals: opts.db.signals})
  const now = opts.now ?? Date.now
  const ttlMs = opts.ttlMs ?? LEASE_TTL_MS
  let stopJob: (() => void) | undefined
  let heldUntil = 0
  const tick = () => {
    const t = now()
    let won = false
    try {
      won = tryLease(opts.db, opts.name, opts.holder, t, ttlMs)
    } catch (err) {
      opts.log.warn('lease.renew_failed', {lease: opts.name, error: err instanceof Error ? err.message : String(err)})
    }
    if (won) {
      heldUntil = t + ttlMs
      if (!stopJob) {
        opts.log.info('lease.acquired', {lease: opts.name, holder: opts.holder})
        stopJob = opts.start()
      }
    } else if (stopJob && (t >= heldUntil - (opts.renewMs ?? LEASE_RENEW_MS) || !leaseIsOurs(opts.db, opts.name, opts.holder))) {
      opts.log.warn('lease.lost', {lease: opts.name, holder: opts.holder})
      stopJob()
      stopJob = undefined
    }
  }
  tick()
  const timer = setInterval(tick, opts.renewMs ?? LEASE_RENEW_MS)
  return {
    get running() { return stopJob !== undefined },
    stop() {
      clearInterval(timer)
      if (stopJob) {
        stopJob()
        stopJob = undefined
        try { releaseLease(opts.db, opts.name, opts.holder) } catch { /* it expires by itself */ }
      }
    },
  }
}

/**
 * On PostgreSQL the job runs where the transaction holding its advisory lock is
 * (store/postgres/leadership.ts): PostgreSQL frees the lock when that process's session ends, and
 * a contender asking every `renewMs` takes over. A holder whose session was lost stops the job
 * at its next check.
 */
function runAsLeader(opts: {signals: ClusterSignals, name: string, holder: string, log: Logger, start: () => () => void, renewMs?: number}): Singleton {
  let stopJob: (() => void) | undefined
  const tick = () => {
    let held = false
    try {
      held = opts.signals.lead(opts.name)
    } catch (err) {
      opts.log.warn('lease.renew_failed', {lease: opts.name, error: err instanceof Error ? err.message : String(err)})
    }
    if (held && !stopJob) {
      opts.log.info('lease.acquired', {lease: opts.name, holder: opts.holder})
      stopJob = opts.start()
    } else if (!held && stopJob) {
      opts.log.warn('lease.lost', {lease: opts.name, holder: opts.holder})
      stopJob()
      stopJob = undefined
    }
  }
  tick()
  const timer = setInterval(tick, opts.renewMs ?? LEASE_RENEW_MS)
  return {
    get running() { return stopJob !== undefined },
    stop() {
      clearInterval(timer)
      if (stopJob) {
        stopJob()
        stopJob = undefined
      }
      try { opts.signals.unlead(opts.name) } catch { /* ending the process ends the session, and the lock with it */ }
    },
  }
}

function leaseIsOurs(db: Database, name: string, holder: string): boolean {
  try {
    return db.query('SELECT 1 FROM leases WHERE name = ? AND holder = ?').get(name, holder) !== null
  } catch {
    return false
  }
}
