/** What changed on the server; the operator event stream and in-process listeners read these. */
export type ServerEvent =
  | {type: 'device.onboarded' | 'device.updated', clientId: string}
  | {type: 'device.seen', clientId: string}
  | {type: 'deployment.changed', deploymentId: string, clientId: string}
  | {type: 'deployment.status', deploymentId: string, clientId: string, state: string}
  | {type: 'manifest.published', clientId: string, manifestVersion: number}
  | {type: 'app.published', appId: string, version: string}

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
