import {MessageChannel, type MessagePort, receiveMessageOnPort, Worker} from 'node:worker_threads'
import type {ClusterSignals, NoticeTopic, SqlDatabase, SqlStatement, SqlTransaction, SqlValue} from '../engine.ts'
import {translate} from './dialect.ts'
import type {CacheNotice, Channels} from './notices.ts'
import type {Answer, Call, WorkerData} from './worker.ts'

/** How long a statement may take before the process gives up on the database. */
const ANSWER_TIMEOUT_MS = 30_000
/**
 * The advisory lock every write transaction takes when it begins. PostgreSQL would let them run
 * side by side; the services were written for SQLite's one writer at a time (read the audit
 * chain's head, append after it), so write transactions of all nodes queue here as they would
 * for SQLite's write lock.
 */
const WRITE_LOCK = 0x6d61_7267

export class PostgresError extends Error {
  readonly code: string | undefined

  constructor(message: string, code?: string) {
    super(message)
    this.name = 'PostgresError'
    this.code = code
  }
}

/**
 * PostgreSQL behind the synchronous interface the store has over SQLite. postgres.js runs in a
 * worker thread; the calling thread blocks (Atomics.wait) until the worker answers, as it blocks
 * on every SQLite call — one statement at a time per process, each transaction on the one
 * connection, nothing interleaved.
 */
export class PostgresDatabase implements SqlDatabase, ClusterSignals {
  private readonly worker: Worker
  private readonly port: MessagePort
  private readonly cachePort: MessagePort
  private readonly eventPort: MessagePort
  private channels: Channels | undefined
  /** Notifications the current transaction sends when it commits (one per topic, however many writes). */
  private readonly pending = new Set<NoticeTopic>()
  /** The BEGIN of a transaction that has not sent a statement yet: it goes with the first one. */
  private pendingBegin: string | undefined
  private readonly signal = new Int32Array(new SharedArrayBuffer(4))
  private readonly demand = new Int32Array(new SharedArrayBuffer(4))
  private readonly statements = new Map<string, string>()
  private nextId = 1
  private depth = 0
  private closed = false

  /** `schema`: the schema the connection works in (created if missing); default: the server's search_path. */
  constructor(url: string, options: {schema?: string} = {}) {
    const {port1, port2} = new MessageChannel()
    const cache = new MessageChannel()
    const events = new MessageChannel()
    this.port = port1
    this.cachePort = cache.port1
    this.eventPort = events.port1
    const data: WorkerData = {url, schema: options.schema, flag: this.signal.buffer as SharedArrayBuffer, port: port2, cachePort: cache.port2, eventPort: events.port2, demand: this.demand.buffer as SharedArrayBuffer}
    this.worker = new Worker(workerEntry(), {workerData: data, transferList: [port2, cache.port2, events.port2]})
    this.worker.unref()
  }

  get signals(): ClusterSignals {
    return this
  }

  /**
   * Starts listening to the other processes' notifications (notices.ts): cache invalidations
   * recorded after `fromInvalidation` are reported by cacheNotices() from now on.
   */
  listen(fromInvalidation: number) {
    if (this.channels) return
    this.channels = this.call({op: 'listen', fromInvalidation}).rows[0]!.channels as Channels
  }

  notifyOnCommit(topic: NoticeTopic) {
    if (!this.channels) return
    if (this.depth > 0) this.pending.add(topic)
    else this.exec(notifySql([topic], this.channels))
  }

  /** The database backend listening for this process (it changes when the connection is made again). */
  get listenerPid(): number | undefined {
    return this.channels?.pid
  }

  /** What arrived since the last call; asking also keeps the worker checking that it is caught up. */
  cacheNotices(): CacheNotice[] {
    Atomics.store(this.demand, 0, 1)
    const out: CacheNotice[] = []
    for (let m = receiveMessageOnPort(this.cachePort); m; m = receiveMessageOnPort(this.cachePort)) out.push(m.message as CacheNotice)
    return out
  }

  onEvents(fn: () => void): () => void {
    this.eventPort.on('message', fn)
    this.eventPort.unref()
    return () => { this.eventPort.off('message', fn) }
  }

  lead(name: string): boolean {
    return this.call({op: 'lead', name}).rows[0]!.held === true
  }

  unlead(name: string) {
    this.call({op: 'unlead', name})
  }

  get inTransaction(): boolean {
    return this.depth > 0
  }

  /** Requests this process's thread made of the database so far (what the hot path costs, for tests and benchmarks). */
  get roundTrips(): number {
    return this.nextId - 1
  }

  private call(req: Call): {rows: Record<string, unknown>[], count: number} {
    if (this.closed) throw new PostgresError('the database connection is closed')
    if (this.pendingBegin !== undefined && (req.op === 'query' || req.op === 'exec')) {
      req = {...req, begin: this.pendingBegin}
      this.pendingBegin = undefined
    }
    const id = this.nextId++
    Atomics.store(this.signal, 0, 0)
    this.port.postMessage({...req, id})
    const deadline = Date.now() + ANSWER_TIMEOUT_MS
    for (;;) {
      const received = receiveMessageOnPort(this.port)
      if (received) {
        const a = received.message as Answer
        // An answer to a request that timed out earlier: not this one's.
        if (a.id !== id) continue
        if ('error' in a) throw new PostgresError(a.error.message, a.error.code)
        return a
      }
      const left = deadline - Date.now()
      if (left <= 0) throw new PostgresError(`PostgreSQL did not answer within ${ANSWER_TIMEOUT_MS / 1000} s`)
      Atomics.wait(this.signal, 0, 0, Math.min(left, 100))
      Atomics.store(this.signal, 0, 0)
    }
  }

  private translated(sql: string): string {
    let text = this.statements.get(sql)
    if (text === undefined) {
      text = translate(sql)
      this.statements.set(sql, text)
    }
    return text
  }

  query(sql: string): SqlStatement {
    const text = this.translated(sql)
    const all = (params: SqlValue[]) => this.call({op: 'query', sql: text, params: params.map(bindable)})
    return {
      get: (...params) => all(params).rows[0] ?? null,
      all: (...params) => all(params).rows,
      run: (...params) => ({changes: all(params).count, lastInsertRowid: 0}),
      iterate: (...params) => all(params).rows[Symbol.iterator](),
    }
  }

  exec(sql: string): void {
    this.call({op: 'exec', sql})
  }

  transaction<T>(fn: () => T): SqlTransaction<T> {
    const run = (lock: boolean): T => {
      if (this.depth > 0) return this.savepoint(fn)
      // BEGIN (with the write lock) travels with the transaction's first statement, pipelined:
      // one round trip less for every transaction; one that runs no statement costs none.
      this.depth = 1
      this.pendingBegin = lock ? `BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK})` : 'BEGIN'
      try {
        const result = fn()
        if (this.pendingBegin === undefined) {
          // The notifications go with the commit, in one round trip: delivered only if it succeeds.
          this.exec(this.pending.size > 0 && this.channels ? `${notifySql([...this.pending], this.channels)}; COMMIT` : 'COMMIT')
        }
        return result
      } catch (err) {
        if (this.pendingBegin === undefined) {
          try { this.exec('ROLLBACK') } catch { /* the connection is gone, and the transaction with it */ }
        }
        throw err
      } finally {
        this.pendingBegin = undefined
        this.depth = 0
        this.pending.clear()
      }
    }
    const t = (() => run(false)) as SqlTransaction<T>
    t.immediate = () => run(true)
    return t
  }

  private savepoint<T>(fn: () => T): T {
    const name = `s${this.depth}`
    this.exec(`SAVEPOINT ${name}`)
    this.depth++
    try {
      const result = fn()
      this.exec(`RELEASE SAVEPOINT ${name}`)
      return result
    } catch (err) {
      this.exec(`ROLLBACK TO SAVEPOINT ${name}`)
      throw err
    } finally {
      this.depth--
    }
  }

  close(): void {
    if (this.closed) return
    try { this.call({op: 'close'}) } catch { /* closing anyway */ }
    this.closed = true
    this.eventPort.close()
    this.cachePort.close()
    void this.worker.terminate()
  }
}

/**
 * The worker's module. In the compiled executable it is an entrypoint of its own (see
 * scripts/build-args.ts), found by its source path; import.meta.url there names a shared chunk.
 */
function workerEntry(): URL | string {
  return import.meta.url.includes('$bunfs') ? './src/server/store/postgres/worker.ts' : new URL('./worker.ts', import.meta.url)
}

/** Channel names are margo's own (notices.ts), quoted as SQL literals all the same. */
function notifySql(topics: NoticeTopic[], channels: Pick<Channels, NoticeTopic>): string {
  return topics.map(t => `SELECT pg_notify('${channels[t].replaceAll("'", "''")}', '')`).join('; ')
}

/** SQLite binds booleans as 0/1; the PostgreSQL columns that hold them are integers too. */
function bindable(v: SqlValue): unknown {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v
}
