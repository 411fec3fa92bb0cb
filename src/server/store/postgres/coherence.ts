import type {CacheNotice} from './notices.ts'

/**
 * A process answers from its caches without asking the database only while it has heard, within
 * this window, a notification it sent itself (notices.ts): PostgreSQL delivers notifications in
 * commit order, so hearing one sent at time s proves every invalidation committed before s was
 * heard (and applied: the worker passes it on first).
 */
export const HEARD_WITHIN_MS = 250
/**
 * A command that changed a device's credentials (revoke, reject, delete, replace) answers this
 * long after its commit, which is longer than HEARD_WITHIN_MS: from then on every process either
 * has heard the change or no longer trusts its caches. Hence "effective on every node before the
 * command returns" without a round of acknowledgements.
 */
export const SETTLE_MS = 300

/**
 * The process-side rule of the caches' coherence on PostgreSQL, kept free of I/O: which cached
 * entries the notices make stale, and whether the caches may be trusted at `now` (processClock(), ms).
 */
export class CacheCoherence {
  private heardAt: number | undefined

  constructor(private lastId: number) {}

  /** The newest invalidation record applied, whether it came from a notice or from a read. */
  get applied(): number {
    return this.lastId
  }

  /** After the caller read the records itself (the database fallback). */
  readUpTo(id: number) {
    if (id > this.lastId) this.lastId = id
  }

  /**
   * Applies `notices` (forgetting stale entries) and tells whether everything committed up to
   * HEARD_WITHIN_MS ago is known. False: ask the database (and call readUpTo).
   */
  apply(notices: CacheNotice[], forget: (clientId: string) => void, forgetAll: () => void, now: number): boolean {
    for (const n of notices) {
      if (n.kind === 'heard') {
        if (this.heardAt === undefined || n.sentAt > this.heardAt) this.heardAt = n.sentAt
        continue
      }
      if (n.kind === 'forget-all') forgetAll()
      else for (const id of n.clientIds) forget(id)
      this.readUpTo(n.lastId)
    }
    return this.heardAt !== undefined && now - this.heardAt <= HEARD_WITHIN_MS
  }
}
