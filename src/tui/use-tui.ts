/**
 * The shell around the pure state machine: runs the effects it asks for against the operator
 * API, refreshes on events (or polls while the stream is down) and advances the clock.
 */
import {useEffect, useReducer, useRef} from 'react'
import {NotFoundError, ValidationError} from '../util/errors.ts'
import type {App, AppSummary, Deployment, DeploymentWithTimeline, Device, DeviceWithDeployments, RolloutDetail, RolloutResult, RolloutSummary} from '../operator-contract/views.ts'
import type {RolloutRequest} from '../operator-contract/requests.ts'
import type {RolloutProgress} from '../operator-contract/strategy.ts'
import type {FleetEventSource} from './event-source.ts'
import {type Action, type Effect, eventNeedsRefresh, initialState, reduce, type TuiState, type View} from './model/state.ts'
import {refreshDelay} from './model/refresh.ts'

/** The part of the operator client the TUI uses (OperatorClient satisfies it). */
export interface FleetApi {
  listDevices(): Promise<Device[]>
  listApps(): Promise<AppSummary[]>
  listDeployments(): Promise<Deployment[]>
  getDevice(clientId: string): Promise<DeviceWithDeployments>
  getDeployment(deploymentId: string): Promise<DeploymentWithTimeline>
  getApp(appId: string): Promise<App>
  /** The rollouts (of one app: to edit the existing one in the deploy form). */
  listRollouts(filter?: {appId?: string}): Promise<RolloutSummary[]>
  /** A rollout with its deployments and, when staged, its waves and reasons. */
  getRollout(name: string): Promise<RolloutDetail>
  /** `margo rollout pause|resume|abort`. */
  controlRollout(name: string, action: 'pause' | 'resume' | 'abort'): Promise<RolloutProgress>
  /** `margo deploy`: create or update a rollout. */
  deployRollout(request: RolloutRequest): Promise<RolloutResult>
  deleteDeployment(deploymentId: string): Promise<Deployment>
  approveDevice(clientId: string): Promise<Device>
}

/** The rollout the form edits: the one named like the app (the default name), else the app's only one. */
export function rolloutToEdit(appId: string, rollouts: readonly RolloutSummary[]): RolloutSummary | undefined {
  const own = rollouts.filter(r => r.appId === appId)
  return own.find(r => r.name === appId) ?? (own.length === 1 ? own[0] : undefined)
}

export interface TuiOptions {
  api: FleetApi
  events: FleetEventSource
  onQuit: () => void
  now?: () => number
  /** Polling period while the event stream is down. */
  pollMs?: number
  /** Events arriving within this window cause one refresh. */
  debounceMs?: number
  /** How often ages and liveness are recomputed. */
  tickMs?: number
  /** A full refresh even while the stream is live: last-seen times of healthy devices are not worth an event each. */
  slowRefreshMs?: number
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err))

/**
 * Every rollout with its detail, which carries the waves and the reasons. A server without
 * rollouts answers undefined, and the dashboard keeps the other lists; a rollout removed
 * between the two calls is left out.
 */
export async function loadRollouts(api: FleetApi): Promise<RolloutDetail[] | undefined> {
  let list: RolloutSummary[]
  try {
    list = await api.listRollouts()
  } catch (err) {
    if (err instanceof NotFoundError) return undefined
    throw err
  }
  const details = await Promise.all(list.map(r => api.getRollout(r.name).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined
    throw err
  })))
  return details.filter((d): d is RolloutDetail => d !== undefined)
}

export function useTui(options: TuiOptions): [TuiState, (action: Action) => void] {
  const now = options.now ?? Date.now
  const [state, dispatch] = useReducer(reduce, undefined, () => initialState(now()))
  const stateRef = useRef(state)
  stateRef.current = state
  const optionsRef = useRef(options)
  optionsRef.current = options
  const done = useRef(0)
  const refreshing = useRef<{again: boolean} | undefined>(undefined)
  const lastRefreshMs = useRef(0)
  const mounted = useRef(true)

  const safeDispatch = (action: Action) => { if (mounted.current) dispatch(action) }

  async function refreshLists(): Promise<void> {
    // One refresh at a time; requests that arrive meanwhile fold into one more round.
    if (refreshing.current) {
      refreshing.current.again = true
      return
    }
    refreshing.current = {again: false}
    const started = performance.now()
    try {
      do {
        refreshing.current.again = false
        const api = optionsRef.current.api
        try {
          const [devices, apps, deployments, rollouts] = await Promise.all([api.listDevices(), api.listApps(), api.listDeployments(), loadRollouts(api)])
          safeDispatch({type: 'data', data: {devices, apps, deployments, ...(rollouts ? {rollouts} : {})}, at: now()})
        } catch (err) {
          safeDispatch({type: 'loadFailed', message: messageOf(err)})
        }
      } while (refreshing.current.again && mounted.current)
    } finally {
      refreshing.current = undefined
      lastRefreshMs.current = performance.now() - started
    }
  }

  async function load(view: View): Promise<void> {
    const api = optionsRef.current.api
    try {
      if (view.kind === 'device') safeDispatch({type: 'detail', view, details: {device: await api.getDevice(view.clientId)}})
      else if (view.kind === 'deployment') safeDispatch({type: 'detail', view, details: {deployment: await api.getDeployment(view.deploymentId)}})
      else if (view.kind === 'rollout') safeDispatch({type: 'detail', view, details: {rollout: await api.getRollout(view.name)}})
      else safeDispatch({type: 'detail', view, details: {app: await api.getApp(view.appId)}})
    } catch (err) {
      safeDispatch({type: 'actionFailed', message: messageOf(err)})
    }
  }

  function refreshAll(): void {
    void refreshLists()
    for (const view of stateRef.current.stack) void load(view)
  }

  async function run(effect: Effect): Promise<void> {
    const api = optionsRef.current.api
    switch (effect.kind) {
      case 'refresh':
        return refreshLists()
      case 'load':
        return load(effect.view)
      case 'openForm':
        try {
          const [app, rollouts] = await Promise.all([api.getApp(effect.appId), api.listRollouts({appId: effect.appId})])
          const rollout = rolloutToEdit(effect.appId, rollouts)
          safeDispatch({type: 'formReady', app, ...(rollout ? {rollout} : {})})
        } catch (err) {
          safeDispatch({type: 'actionFailed', message: messageOf(err)})
        }
        return
      case 'deploy':
        try {
          safeDispatch({type: 'deployed', result: await api.deployRollout(effect.request)})
        } catch (err) {
          safeDispatch({type: 'deployFailed', message: messageOf(err), ...(err instanceof ValidationError ? {details: err.details} : {})})
        }
        return
      case 'undeploy':
        try {
          safeDispatch({type: 'undeployed', deployment: await api.deleteDeployment(effect.deploymentId)})
        } catch (err) {
          safeDispatch({type: 'actionFailed', message: messageOf(err)})
        }
        return
      case 'approve':
        try {
          safeDispatch({type: 'approved', device: await api.approveDevice(effect.clientId)})
        } catch (err) {
          safeDispatch({type: 'actionFailed', message: messageOf(err)})
        }
        return
      case 'control':
        try {
          safeDispatch({type: 'controlled', name: effect.name, action: effect.action, progress: await api.controlRollout(effect.name, effect.action)})
        } catch (err) {
          safeDispatch({type: 'actionFailed', message: messageOf(err)})
        }
        return
      case 'quit':
        optionsRef.current.onQuit()
    }
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: effects run once each, when the reducer adds them; run() reads the latest options through refs
  useEffect(() => {
    const pending = state.effects.filter(e => e.id > done.current)
    if (pending.length === 0) return
    done.current = pending.at(-1)!.id
    dispatch({type: 'effectsDone', upTo: done.current})
    for (const effect of pending) void run(effect)
  }, [state.effects])

  // biome-ignore lint/correctness/useExhaustiveDependencies: subscribe once per event source; the callbacks read the latest state and options through refs
  useEffect(() => {
    mounted.current = true
    let timer: ReturnType<typeof setTimeout> | undefined
    const unsubscribe = options.events.subscribe(
      event => {
        if (timer || !eventNeedsRefresh(stateRef.current, event)) return
        timer = setTimeout(() => { timer = undefined; refreshAll() }, refreshDelay(options.debounceMs ?? 200, lastRefreshMs.current))
      },
      status => {
        safeDispatch({type: 'stream', status})
      },
    )
    const tick = setInterval(() => safeDispatch({type: 'tick', now: now()}), options.tickMs ?? 10_000)
    const slow = setInterval(refreshAll, options.slowRefreshMs ?? 60_000)
    return () => {
      mounted.current = false
      clearTimeout(timer)
      clearInterval(tick)
      clearInterval(slow)
      unsubscribe()
    }
  }, [options.events])

  // biome-ignore lint/correctness/useExhaustiveDependencies: the fallback poll restarts only when the stream goes down or the interval changes
  useEffect(() => {
    if (state.stream !== 'down') return
    const poll = setInterval(refreshAll, options.pollMs ?? 5000)
    return () => clearInterval(poll)
  }, [state.stream, options.pollMs])

  return [state, dispatch]
}
