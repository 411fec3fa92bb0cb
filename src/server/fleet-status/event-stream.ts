import type {EventBus, ServerEvent} from '../events.ts'

/**
 * The operator event stream (text/event-stream): every ServerEvent gets a sequence number, the
 * last few are kept so a client that reconnects with `Last-Event-ID` misses nothing, and each
 * open stream receives the events its `types` filter admits.
 */

export interface LoggedEvent {
  id: number
  event: ServerEvent
}

/** Events kept for reconnecting clients: minutes of a busy fleet, a few hundred KiB at most. */
export const REPLAY_BUFFER_SIZE = 1024
export const HEARTBEAT_MS = 15_000
/** Sent as `retry:`: how long a disconnected client waits before reconnecting. */
export const RETRY_MS = 2_000
/** A client that stops reading is cut off once this much is queued; it reconnects and replays. */
export const MAX_QUEUED_BYTES = 1024 * 1024

type Listener = (e: LoggedEvent) => void

export class EventLog {
  private seq = 0
  private readonly buffer: LoggedEvent[] = []
  private readonly listeners = new Set<Listener>()
  private readonly streams = new Set<() => void>()
  private closed = false

  /** Without a bus the log is fed by `append` (the journal shared by several serve processes). */
  constructor(bus: EventBus | undefined, private readonly capacity = REPLAY_BUFFER_SIZE) {
    bus?.subscribe(event => this.record(event))
  }

  get lastId(): number { return this.seq }
  get listenerCount(): number { return this.listeners.size }

  private record(event: ServerEvent) {
    this.append(this.seq + 1, event)
  }

  /** An event numbered elsewhere: ids only grow, so Last-Event-ID means the same in every process. */
  append(id: number, event: ServerEvent) {
    if (id <= this.seq) return
    this.seq = id
    const entry = {id, event}
    this.buffer.push(entry)
    if (this.buffer.length > this.capacity) this.buffer.shift()
    for (const l of this.listeners) l(entry)
  }

  /**
   * Events after `afterId` still in the buffer, or null when the gap cannot be filled (the id
   * is older than the buffer, or from before a server restart).
   */
  since(afterId: number): LoggedEvent[] | null {
    if (afterId > this.seq) return null
    const oldest = this.buffer[0]?.id ?? this.seq + 1
    if (afterId < oldest - 1) return null
    return this.buffer.filter(e => e.id > afterId)
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Registers an open stream's close function, called by `closeAll`; false once shut down. */
  track(close: () => void): {ok: boolean, untrack: () => void} {
    if (this.closed) return {ok: false, untrack: () => {}}
    this.streams.add(close)
    return {ok: true, untrack: () => { this.streams.delete(close) }}
  }

  get openStreams(): number { return this.streams.size }

  /**
   * Ends every open stream and refuses new ones. A graceful HTTP server stop waits for open
   * responses, and an event stream never finishes by itself.
   */
  closeAll() {
    this.closed = true
    for (const close of [...this.streams]) close()
  }
}

/** For `margo serve`'s shutdown: call before stopping the HTTP server. */
export function closeEventStreams(bus: EventBus) {
  logs.get(bus)?.closeAll()
}

const logs = new WeakMap<EventBus, EventLog>()

/** Makes `log` the one `eventLogFor(bus)` returns: a log fed by the shared journal. */
export function attachEventLog(bus: EventBus, log: EventLog) {
  logs.set(bus, log)
}

/** One log per bus: every stream of a server numbers events the same way. */
export function eventLogFor(bus: EventBus): EventLog {
  let log = logs.get(bus)
  if (!log) {
    log = new EventLog(bus)
    logs.set(bus, log)
  }
  return log
}

/** `?types=a,b`: exact event types, or a family such as `device.*`. Empty means everything. */
export type TypeFilter = (type: string) => boolean

const TYPE_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*(\.\*)?$/

export function parseTypeFilter(raw: string | undefined): {ok: true, filter: TypeFilter, types: string[]} | {ok: false, message: string} {
  const types = (raw ?? '').split(',').map(t => t.trim()).filter(Boolean)
  const bad = types.filter(t => !TYPE_PATTERN.test(t))
  if (bad.length) return {ok: false, message: `types: ${bad.map(t => JSON.stringify(t)).join(', ')} is not an event type — use names such as deployment.status or families such as device.*`}
  if (!types.length) return {ok: true, filter: () => true, types}
  const exact = new Set(types.filter(t => !t.endsWith('.*')))
  const prefixes = types.filter(t => t.endsWith('.*')).map(t => t.slice(0, -1))
  return {ok: true, types, filter: type => exact.has(type) || prefixes.some(p => type.startsWith(p))}
}

/** A `Last-Event-ID` we issued is a non-negative integer; anything else means "from now". */
export function parseLastEventId(raw: string | null | undefined): number | undefined {
  if (!raw || !/^\d{1,15}$/.test(raw.trim())) return undefined
  return Number(raw.trim())
}

/**
 * One SSE message. `data` is JSON on one line (the whole ServerEvent, type included), so it
 * never needs splitting over several `data:` lines.
 */
export function formatEvent(type: string, data: unknown, id?: number): string {
  return `event: ${type}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`
}

export const formatComment = (text: string) => `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`

/** Repeating timer, injectable so the heartbeat can be tested without waiting. */
export type Every = (ms: number, fn: () => void) => () => void
export const realEvery: Every = (ms, fn) => {
  const t = setInterval(fn, ms)
  return () => clearInterval(t)
}

export interface StreamOptions {
  log: EventLog
  filter: TypeFilter
  /** Which events this reader may see at all (a scoped token: only its devices'); default all. */
  visible?: (event: ServerEvent) => boolean
  lastEventId?: number
  heartbeatMs?: number
  every?: Every
  /** Aborted when the client goes away. */
  signal?: AbortSignal
  /** Called once when the stream ends for any reason (client gone, cut off, server closing). */
  onClose?: () => void
}

/**
 * The body of `GET /operator/v1/events`. It opens with `retry:` and a `stream.open` event that
 * says whether the gap since `Last-Event-ID` was replayed (`replayed`) or could not be
 * (`resync: true`: reload whatever view you keep), then forwards events as they happen.
 */
export function eventStream(opts: StreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  const every = opts.every ?? realEvery
  let cleanup: (() => void) | undefined
  let closed = false

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const close = () => {
        if (closed) return
        closed = true
        cleanup?.()
        opts.onClose?.()
        try { controller.close() } catch { /* already closed or errored */ }
      }
      const send = (text: string) => {
        if (closed) return
        controller.enqueue(encoder.encode(text))
        if ((controller.desiredSize ?? 0) < -MAX_QUEUED_BYTES) close()
      }

      const replay = opts.lastEventId === undefined ? [] : opts.log.since(opts.lastEventId)
      const admits = (event: ServerEvent) => opts.filter(event.type) && (opts.visible?.(event) ?? true)
      const pending = (replay ?? []).filter(e => admits(e.event))
      send(`retry: ${RETRY_MS}\n` + formatEvent('stream.open', {
        lastEventId: opts.log.lastId,
        replayed: pending.length,
        resync: opts.lastEventId !== undefined && replay === null,
      }))
      for (const e of pending) send(formatEvent(e.event.type, e.event, e.id))

      const unsubscribe = opts.log.subscribe(e => {
        if (admits(e.event)) send(formatEvent(e.event.type, e.event, e.id))
      })
      const stopHeartbeat = every(opts.heartbeatMs ?? HEARTBEAT_MS, () => send(formatComment('heartbeat')))
      const onAbort = () => close()
      opts.signal?.addEventListener('abort', onAbort)
      const tracked = opts.log.track(close)
      cleanup = () => {
        unsubscribe()
        stopHeartbeat()
        tracked.untrack()
        opts.signal?.removeEventListener('abort', onAbort)
      }
      if (opts.signal?.aborted || !tracked.ok) close()
    },
    cancel() {
      if (closed) return
      closed = true
      cleanup?.()
      opts.onClose?.()
    },
  }, new ByteLengthQueuingStrategy({highWaterMark: 64 * 1024}))
}
