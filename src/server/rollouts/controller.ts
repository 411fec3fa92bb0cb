import type {OperatorApiContext} from '../operator-api/context.ts'
import {reconcileApp, reconcileDevice} from './rollout-service.ts'

/**
 * Keeps live rollouts true as the fleet changes: a device that is onboarded, relabelled,
 * approved or reports capabilities is re-evaluated against every rollout; a newly published
 * version re-evaluates the app's rollouts (those that follow the latest version move to it).
 * Returns the unsubscribe function.
 */
export function startRolloutController(ctx: Pick<OperatorApiContext, 'store' | 'events' | 'log' | 'now'>): () => void {
  return ctx.events.subscribe(event => {
    if (event.type !== 'device.onboarded' && event.type !== 'device.updated' && event.type !== 'app.published') return
    const now = ctx.now().toISOString()
    try {
      if (event.type === 'app.published') {
        reconcileApp(ctx.store, ctx.events, event.appId, now)
        return
      }
      const decisions = reconcileDevice(ctx.store, ctx.events, event.clientId, now)
      for (const d of decisions) {
        if (d.action === 'create' || d.action === 'update') ctx.log.info(`rollout.${d.action}`, {clientId: d.clientId, deploymentId: d.record.deploymentId, digest: d.record.digest})
        else if (d.action === 'remove') ctx.log.info('rollout.remove', {clientId: d.clientId, deploymentId: d.current.deploymentId})
      }
    } catch (err) {
      // The event's own request already succeeded; the next event for the device retries.
      ctx.log.error('rollout.reconcile_failed', {event: event.type, error: err instanceof Error ? err.message : String(err)})
    }
  })
}
