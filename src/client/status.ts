import {subscribeEvents, type StreamEvent} from './events.ts'
import type {OperatorClient} from './operator-client.ts'
import type {FleetOverview, TargetStatus} from '../operator-contract/views.ts'
import type {ServerEventType} from '../operator-contract/events.ts'

/** The status views of the operator API (`GET /status`, `GET /status/{id}`; docs/watching.md). */

export type StatusView = {scope: 'fleet'; overview: FleetOverview} | {scope: 'target'; target: TargetStatus}

/** `certExpiryWithin` (e.g. `60d`) widens or narrows the window of expiring certificates; the server's default otherwise. */
export function fleetOverview(client: OperatorClient, options: {certExpiryWithin?: string} = {}): Promise<FleetOverview> {
  return client.call('GET', '/status', {query: {certExpiryWithin: options.certExpiryWithin}})
}

/** `id` is a deploymentId, a clientId or an appId; the server says which it matched. */
export function targetStatus(client: OperatorClient, id: string): Promise<TargetStatus> {
  return client.call('GET', `/status/${encodeURIComponent(id)}`)
}

/** The overview, or the status of one deployment, device or app. */
export async function statusView(client: OperatorClient, id?: string, options: {certExpiryWithin?: string} = {}): Promise<StatusView> {
  return id ? {scope: 'target', target: await targetStatus(client, id)} : {scope: 'fleet', overview: await fleetOverview(client, options)}
}

/** The event types a status view can change on. */
export const STATUS_EVENT_TYPES: string[] = ['deployment.changed', 'deployment.status', 'device.onboarded', 'device.updated', 'device.seen'] satisfies ServerEventType[]

/**
 * Whether `event` may change `view`, so a watcher fetches only when it must. `device.seen`
 * arrives for every busy device every few seconds but changes a view only when that device is
 * shown as stale or offline; time alone (online → stale) is caught by the periodic refresh.
 */
export function isRelevant(event: StreamEvent, view: StatusView | undefined): boolean {
  if (!view) return true
  if (event.type === 'stream.open') return true
  if (!STATUS_EVENT_TYPES.includes(event.type)) return false
  const data = (event.data ?? {}) as {clientId?: unknown; deploymentId?: unknown}
  if (view.scope === 'fleet') {
    if (event.type !== 'device.seen') return true
    return view.overview.staleOrOfflineDevices.some(d => d.clientId === data.clientId)
  }
  const t = view.target
  const onDevice = t.devices.some(d => d.clientId === data.clientId)
  if (event.type === 'device.seen') return t.devices.some(d => d.clientId === data.clientId && d.liveness !== 'online')
  if (event.type.startsWith('device.')) return onDevice
  // A new deployment of the app, or on the device, shows up in the view.
  if (event.type === 'deployment.changed' && t.kind !== 'deployment') return true
  return t.deployments.some(d => d.deploymentId === data.deploymentId)
}

/** What a view says, without the moment it was generated at: equal keys mean nothing changed. */
export function viewKey(view: StatusView): string {
  const {generatedAt: _, ...rest} = view.scope === 'fleet' ? view.overview : view.target
  return JSON.stringify(rest)
}

export interface WatchOptions {
  /** The overview when absent. */
  id?: string
  signal: AbortSignal
  /** Called with the first view and then with every view that differs from the previous one. */
  onView: (view: StatusView) => void
  /** A lost connection or a failed refresh; the watch goes on and retries. */
  onError?: (err: Error) => void
  /** Refetch at least this often, so time-driven changes (a device going stale) show. Default 30 s. */
  refreshMs?: number
  /** Coalesce a burst of events into one fetch. Default 250 ms. */
  debounceMs?: number
}

/**
 * Follows a status view until `signal` aborts: fetches it, then again after every relevant
 * event from the event stream (and periodically), and reports each change. The first fetch
 * failing rejects (wrong id, wrong token, server down); later failures go to `onError`.
 */
export async function watchStatus(client: OperatorClient, opts: WatchOptions): Promise<void> {
  let current: StatusView | undefined
  let key: string | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let fetching: Promise<void> | undefined
  let again = false

  const refresh = async () => {
    if (fetching) { again = true; return fetching }
    fetching = (async () => {
      do {
        again = false
        try {
          const view = await statusView(client, opts.id)
          if (opts.signal.aborted) return
          const k = viewKey(view)
          if (k !== key) {
            key = k
            current = view
            opts.onView(view)
          }
        } catch (err) {
          if (!opts.signal.aborted) opts.onError?.(err as Error)
        }
      } while (again && !opts.signal.aborted)
    })().finally(() => { fetching = undefined })
    return fetching
  }
  const schedule = () => {
    if (timer) return
    timer = setTimeout(() => { timer = undefined; void refresh() }, opts.debounceMs ?? 250)
  }

  // The first view decides whether the target exists; its errors end the watch.
  const first = await statusView(client, opts.id)
  current = first
  key = viewKey(first)
  opts.onView(first)

  const periodic = setInterval(() => void refresh(), opts.refreshMs ?? 30_000)
  try {
    await subscribeEvents(client.connection, {
      types: STATUS_EVENT_TYPES,
      signal: opts.signal,
      // stream.open also follows every reconnect: whatever happened meanwhile is fetched then.
      onEvent: event => { if (isRelevant(event, current)) schedule() },
      ...(opts.onError ? {onError: opts.onError} : {}),
    })
  } finally {
    clearInterval(periodic)
    clearTimeout(timer)
  }
  await fetching
}
