import type {Logger} from '../../util/log.ts'
import {SYSTEM_ACTOR, appendAudit} from '../audit/service.ts'
import type {EventBus} from '../events.ts'
import {createRolloutService, type RolloutDeps, type RolloutService} from './rollout-service.ts'

/**
 * Keeps live rollouts true as the fleet changes. A device that is onboarded, relabelled, approved
 * or reports capabilities is re-evaluated against every rollout by the process that handled the
 * change, within that request: its next manifest already carries what its rollouts give it,
 * whichever serve process answers. Returns the unsubscribe function.
 */
export function startDeviceReconciler(deps: RolloutDeps & {events: EventBus, log: Logger}, rollouts: RolloutService = createRolloutService(deps)): () => void {
  const {events, log} = deps
  return events.subscribeLocal(event => {
    if (event.type !== 'device.onboarded' && event.type !== 'device.updated') return
    try {
      const decisions = rollouts.reconcileDevice(event.clientId)
      const audit = (action: string, d: {clientId: string, deploymentId: string}) =>
        appendAudit(deps.store, {actor: SYSTEM_ACTOR, action, target: `deployment:${d.deploymentId}`, summary: {clientId: d.clientId, cause: event.type}}, deps.now())
      for (const d of decisions) {
        if (d.action === 'create' || d.action === 'update') {
          log.info(`rollout.${d.action}`, {clientId: d.clientId, deploymentId: d.record.deploymentId, digest: d.record.digest})
          audit(`rollout.deployment_${d.action === 'create' ? 'created' : 'updated'}`, {clientId: d.clientId, deploymentId: d.record.deploymentId})
        } else if (d.action === 'remove') {
          log.info('rollout.remove', {clientId: d.clientId, deploymentId: d.current.deploymentId})
          audit('rollout.deployment_removed', {clientId: d.clientId, deploymentId: d.current.deploymentId})
        }
      }
    } catch (err) {
      // The event's own request already succeeded; the next event for the device retries.
      log.error('rollout.reconcile_failed', {event: event.type, error: err instanceof Error ? err.message : String(err)})
    }
  })
}

/**
 * A newly published version re-evaluates the app's rollouts (those that follow the latest
 * version move to it), wherever it was published: with several serve processes, one runs this.
 */
export function startAppReconciler(deps: RolloutDeps & {events: EventBus, log: Logger}, rollouts: RolloutService = createRolloutService(deps)): () => void {
  const {events, log} = deps
  return events.subscribe(event => {
    if (event.type !== 'app.published') return
    try {
      rollouts.reconcileApp(event.appId)
    } catch (err) {
      log.error('rollout.reconcile_failed', {event: event.type, error: err instanceof Error ? err.message : String(err)})
    }
  })
}

/** Both reconcilers, for a single server process (and tests). */
export function startRolloutController(deps: RolloutDeps & {events: EventBus, log: Logger}, rollouts: RolloutService = createRolloutService(deps)): () => void {
  const stopDevices = startDeviceReconciler(deps, rollouts)
  const stopApps = startAppReconciler(deps, rollouts)
  return () => {
    stopDevices()
    stopApps()
  }
}

/**
 * Moves staged rollouts on: on a timer (timeouts, pauses between waves and windows depend on
 * the clock alone) and soon after a status report (a wave can complete). Evaluations never
 * overlap; a failed one is logged and the next tick tries again.
 */
export function startWaveController(deps: {events: EventBus, log: Logger}, rollouts: Pick<RolloutService, 'advanceAll'>, intervalMs = 1000): () => void {
  let soon: ReturnType<typeof setTimeout> | null = null
  const run = () => {
    soon = null
    try {
      rollouts.advanceAll()
    } catch (err) {
      deps.log.error('rollout.waves_failed', {error: err instanceof Error ? err.message : String(err)})
    }
  }
  const timer = setInterval(run, intervalMs)
  const unsubscribe = deps.events.subscribe(event => {
    if (event.type !== 'deployment.status' || soon) return
    soon = setTimeout(run, 50)
  })
  return () => {
    clearInterval(timer)
    if (soon) clearTimeout(soon)
    unsubscribe()
  }
}
