import type {Connection} from './connection.ts'
import {AuthError, MargoError, NotFoundError, UnreachableError, ValidationError} from '../util/errors.ts'
import {errorFromNetwork, errorFromResponse} from './http-errors.ts'

/**
 * Client of the operator event stream (`GET /operator/v1/events`, text/event-stream): an
 * incremental parser of the SSE format and a subscriber that reconnects with back-off and
 * `Last-Event-ID`, so a watcher survives server restarts and network outages.
 */

export interface StreamEvent {
  type: string
  /** The `data:` field parsed as JSON (the ServerEvent); the raw text when it is not JSON. */
  data: unknown
  id?: string
}

export interface SseMessage {
  event: string
  data: string
  id?: string
}

export interface SseParser {
  /** Feed the next piece of the stream; messages complete in it are delivered synchronously. */
  push(chunk: string): void
  /** The last `id:` seen (the value to send as Last-Event-ID on reconnect). */
  readonly lastEventId: string | undefined
  /** The last valid `retry:` in milliseconds. */
  readonly retryMs: number | undefined
}

/**
 * The SSE parsing rules of the HTML standard: lines end in CRLF, LF or CR (a CR may end one
 * chunk and its LF begin the next), `field: value` with one optional space, comments start with
 * `:`, `data` lines join with "\n", and a blank line dispatches. An `id` persists across messages
 * until changed (also across reconnects: pass it back in); an `id` containing NUL is ignored;
 * `retry` takes only digits.
 */
export function createSseParser(onMessage: (m: SseMessage) => void, initialLastEventId?: string): SseParser {
  let buffer = ''
  let skipLeadingLf = false
  let eventType = ''
  let data: string[] = []
  let hasData = false
  let lastEventId = initialLastEventId
  let retryMs: number | undefined

  const dispatch = () => {
    if (hasData) onMessage({event: eventType || 'message', data: data.join('\n'), ...(lastEventId !== undefined ? {id: lastEventId} : {})})
    eventType = ''
    data = []
    hasData = false
  }

  const line = (text: string) => {
    if (text === '') return dispatch()
    if (text.startsWith(':')) return
    const colon = text.indexOf(':')
    const field = colon === -1 ? text : text.slice(0, colon)
    let value = colon === -1 ? '' : text.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'event': eventType = value; break
      case 'data': data.push(value); hasData = true; break
      case 'id': if (!value.includes('\0')) lastEventId = value; break
      case 'retry': if (/^\d+$/.test(value)) retryMs = Number(value); break
      default: break
    }
  }

  return {
    push(chunk: string) {
      if (skipLeadingLf && chunk.startsWith('\n')) chunk = chunk.slice(1)
      skipLeadingLf = false
      buffer += chunk
      let start = 0
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i]
        if (c !== '\n' && c !== '\r') continue
        line(buffer.slice(start, i))
        if (c === '\r') {
          if (i + 1 === buffer.length) skipLeadingLf = true
          else if (buffer[i + 1] === '\n') i++
        }
        start = i + 1
      }
      buffer = buffer.slice(start)
    },
    get lastEventId() { return lastEventId },
    get retryMs() { return retryMs },
  }
}

export interface SubscribeOptions {
  /** Event types or families (`device.*`); all events when absent or empty. */
  types?: string[]
  signal: AbortSignal
  onEvent: (e: StreamEvent) => void
  /** A lost or refused connection that will be retried; the subscription goes on. */
  onError?: (err: Error) => void
  /** Test seams. */
  fetch?: typeof fetch
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
}

export const INITIAL_RETRY_MS = 1_000
export const MAX_RETRY_MS = 30_000
/** Three missed heartbeats (the server sends one every 15 s): the connection is dead. */
export const IDLE_TIMEOUT_MS = 45_000

/** The wait before reconnect attempt `attempt` (0-based): the server's `retry:` doubled per failure, capped. */
export function reconnectDelay(attempt: number, baseMs = INITIAL_RETRY_MS): number {
  return Math.min(MAX_RETRY_MS, baseMs * 2 ** Math.min(attempt, 16))
}

/** Errors a reconnect cannot fix: a wrong token, a bad filter, an endpoint the server lacks. */
const isFatal = (err: unknown) => err instanceof AuthError || err instanceof ValidationError || err instanceof NotFoundError

const abortableSleep = (ms: number, signal: AbortSignal) => new Promise<void>(resolve => {
  if (signal.aborted) return resolve()
  const t = setTimeout(done, ms)
  function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve() }
  signal.addEventListener('abort', done)
})

/**
 * Reads the operator event stream until `signal` aborts, then resolves. Lost connections are
 * reported to `onError` and retried with back-off, resuming after the last event received.
 * Rejects (with the CLI's typed error) only when the server refuses in a way a retry cannot
 * fix: 401/403 (token), 400 (bad `types`), 404 (no event stream on that server).
 */
export async function subscribeEvents(connection: Connection, opts: {
  types?: string[]
  signal: AbortSignal
  onEvent: (e: {type: string, data: unknown, id?: string}) => void
  onError?: (err: Error) => void
} & Pick<SubscribeOptions, 'fetch' | 'sleep'>): Promise<void> {
  const fetchImpl = opts.fetch ?? fetch
  const sleep = opts.sleep ?? abortableSleep
  const query = opts.types?.length ? `?types=${encodeURIComponent(opts.types.join(','))}` : ''
  const url = `${connection.baseUrl}/events${query}`
  let lastEventId: string | undefined
  let retryBase = INITIAL_RETRY_MS
  let attempt = 0

  while (!opts.signal.aborted) {
    const attemptAbort = new AbortController()
    const onOuterAbort = () => attemptAbort.abort()
    opts.signal.addEventListener('abort', onOuterAbort)
    let idle: ReturnType<typeof setTimeout> | undefined
    const armIdle = () => {
      clearTimeout(idle)
      idle = setTimeout(() => attemptAbort.abort(new Error('no data or heartbeat for 45s')), IDLE_TIMEOUT_MS)
    }
    let received = false
    let consumerError: {error: unknown} | undefined
    try {
      armIdle()
      const headers: Record<string, string> = {authorization: `Bearer ${connection.token}`, accept: 'text/event-stream', 'cache-control': 'no-cache'}
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId
      let response: Response
      try {
        response = await fetchImpl(url, {
          headers,
          signal: attemptAbort.signal,
          ...(connection.ca ? {tls: {ca: connection.ca}} : {}),
        } as RequestInit)
      } catch (err) {
        throw errorFromNetwork(err, connection, IDLE_TIMEOUT_MS)
      }
      if (!response.ok) {
        let body: unknown
        try { body = await response.json() } catch { /* not the operator error shape */ }
        throw errorFromResponse(response.status, body, {method: 'GET', path: '/events'}, connection)
      }
      if (!response.body) throw new UnreachableError(`${url} answered without a body — check that the URL names a margo operator API`, {code: 'bad_response'})

      const parser = createSseParser(m => {
        received = true
        let data: unknown = m.data
        try { data = JSON.parse(m.data) } catch { /* delivered as text */ }
        try {
          opts.onEvent({type: m.event, data, ...(m.id !== undefined ? {id: m.id} : {})})
        } catch (error) {
          consumerError = {error}
          throw error
        }
      }, lastEventId)
      const decoder = new TextDecoder()
      const reader = response.body.getReader()
      try {
        for (;;) {
          const {value, done} = await reader.read()
          if (done) break
          armIdle()
          parser.push(decoder.decode(value, {stream: true}))
          lastEventId = parser.lastEventId ?? lastEventId
          retryBase = parser.retryMs ?? retryBase
        }
      } finally {
        reader.releaseLock()
      }
      if (!opts.signal.aborted) throw new UnreachableError(`the event stream of ${connection.baseUrl} ended — reconnecting`, {code: 'stream_ended'})
    } catch (err) {
      if (opts.signal.aborted) break
      // A failing handler is a bug in the caller, not a reason to reconnect.
      if (consumerError) throw consumerError.error
      const error = err instanceof MargoError ? err
        : errorFromNetwork(attemptAbort.signal.aborted ? attemptAbort.signal.reason ?? err : err, connection, IDLE_TIMEOUT_MS)
      if (isFatal(error)) throw error
      opts.onError?.(error)
    } finally {
      clearTimeout(idle)
      opts.signal.removeEventListener('abort', onOuterAbort)
      attemptAbort.abort()
    }
    // A connection that delivered events was healthy: start the back-off over.
    if (received) attempt = 0
    await sleep(reconnectDelay(attempt++, retryBase), opts.signal)
  }
}
