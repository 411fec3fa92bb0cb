import type {Logger} from '../../util/log.ts'
import {SYSTEM_ACTOR, appendAudit} from '../audit/service.ts'
import type {EventBus} from '../events.ts'
import {createRolloutService, type RolloutDeps, type RolloutService} from './rollout-service.ts'

/**
 * Keeps live rollouts true as the fleet changes: a device that is onboarded, relabelled,
 * approved or reports capabilities is re-evaluated against every rollout; a newly published
 * version re-evaluates the app's rollouts (those that follow the latest version move to it).
 * Returns the unsubscribe function.
 */
export function startRolloutController(deps: RolloutDeps & {events: EventBus, log: Logger}, rollouts: RolloutService = createRolloutService(deps)): () => void {
  const {events, log} = deps
  return events.subscribe(event => {
    if (event.type !== 'device.onboarded' && event.type !== 'device.updated' && event.type !== 'app.published') return
    try {
      if (event.type === 'app.published') {
        rollouts.reconcileApp(event.appId)
        return
      }
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
