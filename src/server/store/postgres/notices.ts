// Runs in the database worker thread (worker.ts). One connection of its own LISTENs to the
// channels of the process's schema and turns what it hears into messages for the process's
// thread: which clients' cached credentials and manifest ETags to forget, that another process
// wrote events, and proof that nothing committed before a given moment is still unheard.
import type {MessagePort} from 'node:worker_threads'
import postgres from 'postgres'

/** How often the process checks that its listening connection is caught up (coherence.ts). */
export const BEAT_MS = 100

export type CacheNotice =
  /** Cached entries of these clients are stale (ids of `cache_invalidations`, in order). */
  | {kind: 'invalidated', lastId: number, clientIds: string[]}
  /** Records were pruned before they were read: forget every cached entry. */
  | {kind: 'forget-all', lastId: number}
  /**
   * A notification sent at `sentAt` (processClock(), ms) came back: every notification committed
   * before that moment has been heard, and what it invalidated was posted before this.
   */
  | {kind: 'heard', sentAt: number}

/**
 * A clock both threads of a process read alike. Bun starts process.hrtime and performance.now()
 * afresh in each thread; the thread's start (timeOrigin, from the wall clock) plus its monotonic
 * time since agree across threads, and a later step of the wall clock does not move it.
 */
export function processClock(): number {
  return performance.timeOrigin + performance.now()
}

export interface Channels {
  cache: string
  events: string
  /** The backend that listened first (diagnostics, tests): another after a reconnect. */
  pid: number
}

/**
 * Channel names: margo's, per schema (tests and several installations may share one database),
 * short enough for PostgreSQL's 63-byte identifiers whatever the schema is called.
 */
export const CHANNELS_QUERY = `SELECT 'margo/cache/' || left(md5(current_schema()), 16) AS cache, 'margo/events/' || left(md5(current_schema()), 16) AS events, pg_backend_pid() AS pid`

/**
 * `demand`: set by the process's thread whenever it consults its caches; a process that does not
 * (an idle one, a command-line tool) sends no beats, so it costs the database nothing.
 */
export function startNotices(url: string, options: Record<string, unknown> & {connection?: Record<string, unknown>}, opts: {fromInvalidation: number, cachePort: MessagePort, eventPort: MessagePort, demand: Int32Array}) {
  let lastId = opts.fromInvalidation
  let stopped = false
  let listening = false
  let beatInFlight = false
  // Notifications are handled one after the other, in the order they arrived: a beat is passed
  // on only after the invalidations heard before it were read and posted.
  let chain: Promise<void> = Promise.resolve()
  const enqueue = (job: () => Promise<void> | void) => {
    chain = chain.then(job).catch(() => { /* the next notification or the re-listen catches up */ })
  }
  const beatChannel = `margo/beat/${process.pid}/${Math.random().toString(36).slice(2, 10)}`
  let resolveChannels!: (c: Channels) => void
  const channels = new Promise<Channels>(resolve => { resolveChannels = resolve })
  let known: Channels | undefined

  const side = postgres(url, {
    ...options,
    max: 1,
    // A beat is a transaction of its own; losing one in a crash loses nothing, so no flush to wait for.
    connection: {...options.connection, synchronous_commit: 'off', application_name: 'margo notices'},
    onnotify: (channel: string, payload: string) => {
      if (!known) return
      if (channel === known.events) opts.eventPort.postMessage('events')
      else if (channel === known.cache) enqueue(caughtUpOrRelisten)
      // Only while caught up: a beat heard after a failed catch-up proves nothing.
      else if (channel === beatChannel) enqueue(() => { if (listening) opts.cachePort.postMessage({kind: 'heard', sentAt: Number(payload)} satisfies CacheNotice) })
    },
    // The connection went away and its LISTENs with it: listen again, then read what was missed.
    onclose: () => {
      // A listening connection that dropped is made again at once; a connect that failed (the
      // database is down) is tried again each second.
      const dropped = listening
      listening = false
      relisten(dropped ? 100 : 1_000)
    },
  } as never)

  async function catchUp() {
    const rows = await side<{id: number, client_id: string}[]>`SELECT id, client_id FROM cache_invalidations WHERE id > ${lastId} ORDER BY id`
    if (rows.length === 0) return
    const first = rows[0]!.id
    const last = rows[rows.length - 1]!.id
    // Records are pruned by count: a gap may mean some were deleted before they were read.
    opts.cachePort.postMessage(first !== lastId + 1
      ? {kind: 'forget-all', lastId: last} satisfies CacheNotice
      : {kind: 'invalidated', lastId: last, clientIds: rows.map(r => r.client_id)} satisfies CacheNotice)
    lastId = last
  }

  /**
   * A catch-up that fails leaves invalidations unread: the process must stop trusting its caches
   * (no more beats pass) until listening again has read them.
   */
  async function caughtUpOrRelisten() {
    try {
      await catchUp()
    } catch {
      listening = false
      relisten(100)
    }
  }

  // One attempt pending at a time: a failed connect both closes the connection and fails the
  // LISTEN, and must not become two attempts (and four, and eight) while the database is down.
  let retry: ReturnType<typeof setTimeout> | undefined
  let attempts = 0
  function relisten(delayMs: number) {
    if (stopped || retry) return
    retry = setTimeout(() => {
      retry = undefined
      enqueue(listen)
    }, delayMs)
  }

  async function listen() {
    if (stopped || listening) return
    attempts++
    try {
      if (!known) {
        const [c] = await side.unsafe(CHANNELS_QUERY)
        known = c as unknown as Channels
        resolveChannels(known)
      }
      const quote = (name: string) => `"${name.replaceAll('"', '""')}"`
      await side.unsafe(`LISTEN ${quote(known.cache)}; LISTEN ${quote(known.events)}; LISTEN ${quote(beatChannel)}`)
      listening = true
      await catchUp()
      // Events written while nobody listened: the process reads the journal once more.
      opts.eventPort.postMessage('events')
    } catch {
      listening = false
      relisten(1_000)
    }
  }

  enqueue(listen)
  const beat = setInterval(() => {
    if (!listening || beatInFlight || Atomics.exchange(opts.demand, 0, 0) === 0) return
    beatInFlight = true
    const sentAt = processClock()
    side`SELECT pg_notify(${beatChannel}, ${String(sentAt)})`.catch(() => {}).finally(() => { beatInFlight = false })
  }, BEAT_MS)

  return {
    channels,
    /** How often it tried to (re)connect and listen: once at the start, then once per loss. */
    get attempts() { return attempts },
    async stop() {
      stopped = true
      clearInterval(beat)
      clearTimeout(retry)
      await side.end({timeout: 1})
    },
  }
}
