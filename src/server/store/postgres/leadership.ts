// Runs in the database worker thread (worker.ts). Leadership of a named job (the controllers)
// is a transaction-scoped advisory lock held by a transaction that stays open on a connection
// of its own: PostgreSQL itself lets go of it the moment that session ends — the process died
// (its socket closed), or it went silent for longer than the session's idle-in-transaction
// timeout (power loss, a partition). No clock of ours decides who leads.
import postgres from 'postgres'

/**
 * How long the holding session may stay silent before PostgreSQL ends it and frees the lock;
 * with a contender trying every second, failover after a silent death takes at most this + 1 s.
 */
export const LEADER_SESSION_TIMEOUT_MS = 5_000
/** The holder proves its session alive this often, whatever the process's thread is doing. */
const KEEPALIVE_MS = 1_000
/** A check the database does not answer within this is taken as lost leadership. */
const CHECK_TIMEOUT_MS = 2_000
/** The longest the process's thread waits for an answer about leadership; then the last known stands. */
const ANSWER_WITHIN_MS = 250
/** 'marg': the first key of margo's leadership locks; the second is the schema and the job's name. */
const LOCK_CLASS = 0x6d61_7267
// Every statement on the holding connection goes as a simple query: a prepared statement's portal
// would keep a snapshot open for the life of the transaction and hold back vacuum everywhere.

interface Slot {
  sql: postgres.Sql
  /** The backend holding the lock, 0 when not held. */
  pid: number
  keepalive?: ReturnType<typeof setInterval>
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error('the database did not answer in time')), ms) })])
    .finally(() => clearTimeout(timer))
}

export function startLeadership(url: string, options: Record<string, unknown> & {connection?: Record<string, unknown>}) {
  const slots = new Map<string, Slot>()
  const open = (name: string): postgres.Sql => postgres(url, {
    ...options,
    max: 1,
    connection: {...options.connection, idle_in_transaction_session_timeout: String(LEADER_SESSION_TIMEOUT_MS), application_name: `margo ${name}`},
  } as never)

  /** Gives the slot's session up (ending it frees the lock, if held) and starts afresh next time. */
  const reset = (name: string, slot: Slot) => {
    clearInterval(slot.keepalive)
    slot.pid = 0
    slots.delete(name)
    void slot.sql.end({timeout: 0}).catch(() => {})
  }

  const alive = async (slot: Slot): Promise<boolean> => {
    try {
      const [r] = await withTimeout(slot.sql.unsafe<{pid: number}[]>('SELECT pg_backend_pid() AS pid'), CHECK_TIMEOUT_MS)
      // Another pid: the session that held the lock ended and postgres.js connected anew.
      return r?.pid === slot.pid
    } catch {
      return false
    }
  }

  const inFlight = new Map<string, Promise<boolean>>()
  const known = new Map<string, boolean>()
  // Leadership the keepalive found lost (the session ended: a restart, a dropped connection).
  // The next answer says so before any new claim: between the two another node may have led,
  // so the controllers must stop and start afresh, even when the database was back at once.
  const lost = new Set<string>()
  const lose = (name: string, slot: Slot) => {
    reset(name, slot)
    known.set(name, false)
    lost.add(name)
  }

  /** One check or claim: keeps the lock if the session that holds it is alive, else tries for it. */
  async function claim(name: string): Promise<boolean> {
    let slot = slots.get(name)
    if (slot?.pid) {
      if (await alive(slot)) return true
      reset(name, slot)
      return false
    }
    if (!slot) {
      slot = {sql: open(name), pid: 0}
      slots.set(name, slot)
    }
    const s = slot
    try {
      await withTimeout(s.sql.unsafe('BEGIN'), CHECK_TIMEOUT_MS)
      const [r] = await withTimeout(s.sql.unsafe<{won: boolean, pid: number}[]>(`SELECT pg_try_advisory_xact_lock(${LOCK_CLASS}, hashtext(current_schema() || '/' || '${name.replaceAll("'", "''")}')) AS won, pg_backend_pid() AS pid`), CHECK_TIMEOUT_MS)
      if (r?.won) {
        s.pid = r.pid
        s.keepalive = setInterval(() => {
          void alive(s).then(ok => { if (!ok && slots.get(name) === s) lose(name, s) })
        }, KEEPALIVE_MS)
        return true
      }
      await withTimeout(s.sql.unsafe('ROLLBACK'), CHECK_TIMEOUT_MS)
    } catch {
      reset(name, s)
    }
    return false
  }

  return {
    /**
     * Claims or keeps leadership of `name`: true while this process holds it. The process's
     * thread waits for this (it is a synchronous call there), so an answer the database is slow
     * to give is not waited for beyond ANSWER_WITHIN_MS: the last one known stands meanwhile.
     */
    async hold(name: string): Promise<boolean> {
      if (lost.delete(name)) return false
      let attempt = inFlight.get(name)
      if (!attempt) {
        attempt = claim(name).catch(() => false).then(held => {
          known.set(name, held)
          inFlight.delete(name)
          return held
        })
        inFlight.set(name, attempt)
      }
      let timer: ReturnType<typeof setTimeout> | undefined
      const meanwhile = new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(known.get(name) ?? false), ANSWER_WITHIN_MS) })
      return await Promise.race([attempt, meanwhile]).finally(() => clearTimeout(timer))
    },
    /** Ends the transaction, so another process takes over at once rather than after a timeout. */
    async release(name: string) {
      await inFlight.get(name)
      known.delete(name)
      lost.delete(name)
      const slot = slots.get(name)
      if (!slot) return
      if (slot.pid) await withTimeout(slot.sql.unsafe('ROLLBACK'), CHECK_TIMEOUT_MS).catch(() => {})
      reset(name, slot)
    },
    async stop() {
      await Promise.all([...slots.keys()].map(name => this.release(name)))
    },
  }
}
