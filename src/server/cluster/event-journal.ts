import type {SqlDatabase as Database} from '../store/engine.ts'
import type {Logger} from '../../util/log.ts'
import type {EventBus, ServerEvent} from '../events.ts'
import {EventLog, REPLAY_BUFFER_SIZE, attachEventLog} from '../fleet-status/event-stream.ts'

/** How often a process looks for the others' events: the extra latency of an event made elsewhere. */
export const JOURNAL_POLL_MS = 50
/**
 * On PostgreSQL a process reads the journal when notified (one notification per batch written,
 * never one per event), and this often besides, in case a notification was lost with a connection.
 */
export const NOTIFIED_JOURNAL_POLL_MS = 1_000
/** On PostgreSQL, batches are written at most this often, so a storm of status reports makes few notifications. */
export const NOTIFIED_FLUSH_MS = 20
/** Journal rows kept; the replay buffer of each process is smaller. */
export const JOURNAL_RETENTION = 10_000
/** Events per INSERT statement. */
const INSERT_CHUNK = 200

export interface EventJournal {
  /** Writes what is queued and reads what others wrote; the timer does it too. */
  pump(): void
  /** Deletes all but the newest JOURNAL_RETENTION rows (one process does it: the lease holder). */
  prune(): void
  stop(): void
}

/**
 * Joins a process's event bus to the `events` table every serve process of a data directory
 * shares. Local events reach local listeners at once (as with one process) and are written in
 * batches; every process tails the table, hands the others' events to its own listeners (the
 * rollout controller wherever it runs) and numbers the operator event stream by row id, so
 * `Last-Event-ID` replays the same events from any process.
 */
export function startEventJournal(db: Database, bus: EventBus, origin: string, log: Logger, pollMs = db.signals ? NOTIFIED_JOURNAL_POLL_MS : JOURNAL_POLL_MS): EventJournal {
  const signals = db.signals
  const eventLog = new EventLog(undefined, REPLAY_BUFFER_SIZE)
  attachEventLog(bus, eventLog)
  // One statement per batch (a round trip each on PostgreSQL), in chunks far below any
  // engine's limit on parameters.
  const inserts = new Map<number, ReturnType<typeof db.query>>()
  const insertBatch = (events: ServerEvent[]) => {
    for (let i = 0; i < events.length; i += INSERT_CHUNK) {
      const chunk = events.slice(i, i + INSERT_CHUNK)
      let q = inserts.get(chunk.length)
      if (!q) {
        q = db.query(`INSERT INTO events (origin, json) VALUES ${Array.from({length: chunk.length}, () => '(?, ?)').join(', ')}`)
        if (chunk.length <= 16 || chunk.length === INSERT_CHUNK) inserts.set(chunk.length, q)
      }
      q.run(...chunk.flatMap(e => [origin, JSON.stringify(e)]))
    }
  }
  const read = db.query('SELECT id, origin, json FROM events WHERE id > ? ORDER BY id LIMIT 1000')
  let queue: ServerEvent[] = []
  let scheduled = false
  let lastFlush = 0

  // Reconnecting clients may have seen events from before this process started: preload them.
  const recent = db.query('SELECT id, origin, json FROM events ORDER BY id DESC LIMIT ?').all(REPLAY_BUFFER_SIZE) as Row[]
  let lastId = 0
  for (const row of recent.reverse()) {
    eventLog.append(row.id, JSON.parse(row.json) as ServerEvent)
    lastId = row.id
  }

  const flush = () => {
    if (queue.length === 0) return
    const batch = queue
    queue = []
    try {
      db.transaction(() => {
        insertBatch(batch)
        signals?.notifyOnCommit('events')
      }).immediate()
      lastFlush = performance.now()
    } catch (err) {
      log.error('events.journal_write_failed', {events: batch.length, error: err instanceof Error ? err.message : String(err)})
    }
  }
  const tail = () => {
    for (;;) {
      const rows = read.all(lastId) as Row[]
      for (const row of rows) {
        lastId = row.id
        let event: ServerEvent
        try { event = JSON.parse(row.json) as ServerEvent } catch { continue }
        eventLog.append(row.id, event)
        if (row.origin !== origin) bus.deliver(event)
      }
      if (rows.length < 1000) break
    }
  }
  const pump = () => {
    scheduled = false
    try {
      flush()
      tail()
    } catch (err) {
      log.error('events.journal_read_failed', {error: err instanceof Error ? err.message : String(err)})
    }
  }
  const schedule = (delayMs: number) => {
    if (scheduled) return
    scheduled = true
    setTimeout(pump, delayMs)
  }
  bus.onEmit(event => {
    queue.push(event)
    // Soon, not now: the emitting request's own transaction may still be open.
    schedule(signals ? Math.max(0, lastFlush + NOTIFIED_FLUSH_MS - performance.now()) : 0)
  })
  const unlisten = signals?.onEvents(() => schedule(0))
  const timer = setInterval(pump, pollMs)
  return {
    pump,
    prune() {
      db.query('DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?').run(JOURNAL_RETENTION)
    },
    stop() {
      clearInterval(timer)
      bus.onEmit(undefined)
      unlisten?.()
      pump()
      eventLog.closeAll()
    },
  }
}

interface Row {
  id: number
  origin: string
  json: string
}
