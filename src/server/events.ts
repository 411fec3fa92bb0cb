import type {ServerEvent} from '../operator-contract/events.ts'

export type {ServerEvent}

type Listener = (event: ServerEvent) => void

/**
 * The server's events, delivered synchronously to this process's listeners. With several serve
 * processes, a journal (src/server/cluster/event-journal.ts) also takes every local event out
 * (`onEmit`) and brings the other processes' events in (`deliver`).
 */
export class EventBus {
  private listeners = new Set<Listener>()
  private localListeners = new Set<Listener>()
  private outbound: Listener | undefined
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
  /** Events emitted in this process only (not those another process's journal brings in). */
  subscribeLocal(listener: Listener): () => void {
    this.localListeners.add(listener)
    return () => this.localListeners.delete(listener)
  }
  /** Called with each event emitted in this process, after its listeners. */
  onEmit(outbound: Listener | undefined) {
    this.outbound = outbound
  }
  emit(event: ServerEvent) {
    for (const l of this.localListeners) {
      try { l(event) } catch { /* a faulty listener must not break the request that emitted */ }
    }
    this.deliver(event)
    try { this.outbound?.(event) } catch { /* the journal logs its own failures */ }
  }
  /** An event from elsewhere (another process): to this process's listeners only. */
  deliver(event: ServerEvent) {
    for (const l of this.listeners) {
      try { l(event) } catch { /* a faulty listener must not break the request that emitted */ }
    }
  }
}
