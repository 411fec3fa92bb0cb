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
 * of the `leases` table on SQLite; on PostgreSQL an advisory lock, see advisoryLock).
 * Every process tries each `renewMs`; the holder renews.
 */
export function runAsSingleton(opts: {db: Database, name: string, holder: string, log: Logger, start: () => () => void, now?: () => number, ttlMs?: number, renewMs?: number}): Singleton {
  const election = opts.db.signals ? advisoryLock(opts.db.signals, opts.name) : leaseRow(opts)
  return runElected(opts, election)
}

interface Election {
  /** Claims or keeps the job: true while this process holds it. */
  hold(): boolean
  /** Lets go at a clean stop, so another process takes over at once. */
  release(): void
}

function runElected(opts: {name: string, holder: string, log: Logger, start: () => () => void, renewMs?: number}, election: Election): Singleton {
  let stopJob: (() => void) | undefined
  const tick = () => {
    let held = false
    try {
      held = election.hold()
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
      try { election.release() } catch { /* a lease expires, a session ends with its process */ }
    },
  }
}

/**
 * SQLite: the lease row, valid `ttlMs` and renewed by its holder. A holder that cannot renew
 * (the database busy) keeps the job while its lease is still valid and still its own, and stops
 * it a renewal period before the lease runs out, so two never overlap while clocks agree.
 */
function leaseRow(opts: {db: Database, name: string, holder: string, log: Logger, now?: () => number, ttlMs?: number, renewMs?: number}): Election {
  const now = opts.now ?? Date.now
  const ttlMs = opts.ttlMs ?? LEASE_TTL_MS
  let heldUntil = 0
  return {
    hold() {
      const t = now()
      try {
        if (tryLease(opts.db, opts.name, opts.holder, t, ttlMs)) {
          heldUntil = t + ttlMs
          return true
        }
      } catch (err) {
        opts.log.warn('lease.renew_failed', {lease: opts.name, error: err instanceof Error ? err.message : String(err)})
      }
      return t < heldUntil - (opts.renewMs ?? LEASE_RENEW_MS) && leaseIsOurs(opts.db, opts.name, opts.holder)
    },
    release() {
      if (heldUntil > 0) releaseLease(opts.db, opts.name, opts.holder)
    },
  }
}

/**
 * PostgreSQL: the job runs where the transaction holding its advisory lock is
 * (store/postgres/leadership.ts). PostgreSQL frees the lock when that process's session ends,
 * and a contender asking every renewal period takes over; a holder whose session was lost stops
 * the job at its next check.
 */
function advisoryLock(signals: ClusterSignals, name: string): Election {
  return {
    hold: () => signals.lead(name),
    release: () => signals.unlead(name),
  }
}

function leaseIsOurs(db: Database, name: string, holder: string): boolean {
  try {
    return db.query('SELECT 1 FROM leases WHERE name = ? AND holder = ?').get(name, holder) !== null
  } catch {
    return false
  }
}
