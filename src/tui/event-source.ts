/**
 * Where the TUI learns that something changed. The app only needs to know "something changed"
 * and whether the stream works; it is given a FleetEventSource so tests can pass a fake, and it
 * polls whenever the source says the stream is down.
 */
import type {Connection} from '../client/connection.ts'
import type {StreamStatus} from './model/state.ts'

export interface FleetEvent {
  type: string
  data?: unknown
}

export interface FleetEventSource {
  /** Starts delivering events; the returned function stops it. `onStatus` says whether the stream works. */
  subscribe(onEvent: (event: FleetEvent) => void, onStatus?: (status: StreamStatus) => void): () => void
}

/** The shape of `subscribeEvents` in src/client/events.ts. */
export type SubscribeEvents = (connection: Connection, options: {
  signal: AbortSignal
  onEvent: (event: {type: string, data: unknown, id?: string}) => void
  onError?: (err: Error) => void
}) => Promise<void>

export interface StreamOptions {
  /** A subscription that has not failed within this time is taken as connected (the stream sends no "open" event). */
  settleMs?: number
}

/**
 * The operator event stream as a FleetEventSource. `subscribeEvents` reconnects by itself; every
 * error it reports marks the stream down (so the app polls) until events flow again. A refusal
 * it cannot retry (an older server without the stream, a rejected token) leaves it down for good.
 */
export function streamEventSource(subscribeEvents: SubscribeEvents, connection: Connection, options: StreamOptions = {}): FleetEventSource {
  const settleMs = options.settleMs ?? 1500
  return {
    subscribe(onEvent, onStatus) {
      const controller = new AbortController()
      let status: StreamStatus = 'connecting'
      const set = (next: StreamStatus) => {
        if (controller.signal.aborted || status === next) return
        status = next
        onStatus?.(next)
      }
      onStatus?.('connecting')
      const settle = setTimeout(() => { if (status === 'connecting') set('live') }, settleMs)
      subscribeEvents(connection, {
        signal: controller.signal,
        onEvent: e => {
          if (controller.signal.aborted) return
          set('live')
          onEvent({type: e.type, data: e.data})
        },
        onError: () => set('down'),
      }).then(() => set('down'), () => set('down'))
      return () => {
        clearTimeout(settle)
        controller.abort()
      }
    },
  }
}

/** No stream at all: the app polls. */
export const pollingOnly: FleetEventSource = {
  subscribe(_onEvent, onStatus) {
    onStatus?.('down')
    return () => {}
  },
}
