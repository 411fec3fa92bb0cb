import {subscribeEvents, type StreamEvent} from './events.ts'
import type {OperatorClient} from './operator-client.ts'
import type {FleetOverview, RolloutDetail, RolloutSummary, TargetStatus} from '../operator-contract/views.ts'
import type {RolloutProgress} from '../operator-contract/strategy.ts'
import {NotFoundError} from '../util/errors.ts'
import type {ServerEventType} from '../operator-contract/events.ts'

/** The status views of the operator API (`GET /status`, `GET /status/{id}`; docs/watching.md). */

/** A staged rollout as a status view shows it: where it is, and why devices have not converged. */
export interface StagedRollout {
  name: string
  progress: RolloutProgress
}

export type StatusView = ({scope: 'fleet'; overview: FleetOverview} | {scope: 'target'; target: TargetStatus} | {scope: 'rollout'; rollout: RolloutDetail}) & {
  /** Staged rollouts that concern the view (for a device: only its own reasons are shown). */
  staged?: StagedRollout[]
}

/** `certExpiryWithin` (e.g. `60d`) widens or narrows the window of expiring certificates; the server's default otherwise. */
export function fleetOverview(client: OperatorClient, options: {certExpiryWithin?: string} = {}): Promise<FleetOverview> {
  return client.call('GET', '/status', {query: {certExpiryWithin: options.certExpiryWithin}})
}

/** `id` is a deploymentId, a clientId or an appId; the server says which it matched. */
export function targetStatus(client: OperatorClient, id: string): Promise<TargetStatus> {
  return client.call('GET', `/status/${encodeURIComponent(id)}`)
}

async function stagedRollouts(client: OperatorClient, filter: (r: RolloutSummary) => boolean): Promise<StagedRollout[]> {
  let all: RolloutSummary[]
  try {
    all = (await client.call<{rollouts: RolloutSummary[]}>('GET', '/rollouts')).rollouts
  } catch (err) {
    // A server without rollouts (or a token that may not list them) has nothing staged to show.
    if (err instanceof NotFoundError) return []
    throw err
  }
  const list = all.filter(r => r.strategy && filter(r))
  const out: StagedRollout[] = []
  for (const r of list) {
    const detail = await client.call<RolloutDetail>('GET', `/rollouts/${encodeURIComponent(r.name)}`)
    if (detail.progress) out.push({name: r.name, progress: detail.progress})
  }
  return out
}

/**
 * The overview, or the status of one deployment, device, app or staged rollout, with the
 * staged rollouts that concern it (a device: those with a reason for it).
 */
export async function statusView(client: OperatorClient, id?: string, options: {certExpiryWithin?: string} = {}): Promise<StatusView> {
  if (!id) {
    const staged = await stagedRollouts(client, () => true)
    return {scope: 'fleet', overview: await fleetOverview(client, options), ...(staged.length ? {staged} : {})}
  }
  let target: TargetStatus
  try {
    target = await targetStatus(client, id)
  } catch (err) {
    // Not a deployment, device or app: it may be a rollout's name.
    if (!(err instanceof NotFoundError)) throw err
    const rollout = await client.call<RolloutDetail>('GET', `/rollouts/${encodeURIComponent(id)}`).catch(() => { throw err })
    return {scope: 'rollout', rollout, ...(rollout.progress ? {staged: [{name: rollout.name, progress: rollout.progress}]} : {})}
  }
  const device = target.kind === 'device' ? target.devices[0]?.clientId : undefined
  const staged = (await stagedRollouts(client, r => (target.kind === 'app' ? r.appId === id || r.name === id : target.kind === 'device')))
    .filter(s => !device || s.progress.notConverged.some(d => d.clientId === device))
  return {scope: 'target', target, ...(staged.length ? {staged} : {})}
}

/** The event types a status view can change on. */
export const STATUS_EVENT_TYPES: string[] = ['deployment.changed', 'deployment.status', 'device.onboarded', 'device.updated', 'device.seen', 'rollout.progress'] satisfies ServerEventType[]

/**
 * Whether `event` may change `view`, so a watcher fetches only when it must. `device.seen`
 * arrives for every busy device every few seconds but changes a view only when that device is
 * shown as stale or offline; time alone (online → stale) is caught by the periodic refresh.
 */
export function isRelevant(event: StreamEvent, view: StatusView | undefined): boolean {
  if (!view) return true
  if (event.type === 'stream.open') return true
  if (!STATUS_EVENT_TYPES.includes(event.type)) return false
  if (event.type === 'rollout.progress') return true
  if (view.scope === 'rollout') return true
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
  if (view.scope === 'rollout') return JSON.stringify(view.rollout)
  const {generatedAt: _, ...rest} = view.scope === 'fleet' ? view.overview : view.target
  return JSON.stringify({rest, staged: view.staged})
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
