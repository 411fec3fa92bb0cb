import type {ServerEvent} from '../operator-contract/events.ts'

export type {ServerEvent}

type Listener = (event: ServerEvent) => void

export class EventBus {
  private listeners = new Set<Listener>()
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
  emit(event: ServerEvent) {
    for (const l of this.listeners) {
      try { l(event) } catch { /* a faulty listener must not break the request that emitted */ }
    }
  }
}
