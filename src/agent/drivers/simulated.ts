import type {ApplicationDeployment} from '../../margo/deployment.ts'
import type {ComponentResult, Driver, DriverContext} from '../types.ts'
import {installInOrder, removeInReverse} from './sequence.ts'
import {DriverError} from './errors.ts'
import type {DriverType} from './index.ts'

/**
 * How a rehearsed device behaves, decided per apply: the fleet simulator gives each device
 * apply times and failures drawn from the operator's distributions.
 */
export interface SimulatedBehaviour {
  /** How long the whole apply takes, in ms, spread evenly over the components. */
  applyTimeMs?(deploymentId: string): number
  /** A message when this apply is to fail (its last component fails with SIMULATED_FAILURE), else null. */
  failure?(deploymentId: string): string | null
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve()
  return new Promise(resolve => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, {once: true})
  })
}

/**
 * A driver that touches nothing on the host and reports every component as installed or
 * removed, through the same per-component sequence as the real drivers. It lets an operator
 * rehearse a rollout end to end (`margo agent --simulate-drivers`): onboarding, signatures,
 * desired-state checks and status reporting are all real, only helm and docker are left out.
 */
export function createSimulatedDriver(type: DriverType, behaviour: SimulatedBehaviour = {}): Driver {
  const note = (ctx: DriverContext, verb: string, deployment: ApplicationDeployment) =>
    ctx.log.info(`driver.simulated_${verb}`, {deploymentId: deployment.metadata.annotations.id, profile: type, components: deployment.spec.deploymentProfile.components.map(c => c.name)})
  return {
    type,
    async apply(deployment, ctx, onComponent) {
      note(ctx, 'apply', deployment)
      const id = deployment.metadata.annotations.id
      const components = deployment.spec.deploymentProfile.components
      const stepMs = (behaviour.applyTimeMs?.(id) ?? 0) / Math.max(1, components.length)
      const failure = behaviour.failure?.(id) ?? null
      // Announced like a real install, so a rehearsed removal takes the same path as a real one.
      return installInOrder(components, ctx, onComponent, async (_component, i) => {
        ctx.changingHost?.()
        await pause(stepMs, ctx.signal)
        if (failure !== null && i === components.length - 1) throw new DriverError('SIMULATED_FAILURE', failure)
      })
    },
    async remove(deployment, ctx, onComponent) {
      note(ctx, 'remove', deployment)
      return removeInReverse(deployment.spec.deploymentProfile.components, ctx, onComponent, async () => {})
    },
    async status(deployment): Promise<ComponentResult[]> {
      return deployment.spec.deploymentProfile.components.map(c => ({name: c.name, state: 'installed'}))
    },
  }
}

/** Simulated drivers for both profiles, in the shape `createDrivers` returns. */
export function createSimulatedDrivers(behaviour: SimulatedBehaviour = {}): Record<DriverType, Driver> {
  return {'helm.v3': createSimulatedDriver('helm.v3', behaviour), compose: createSimulatedDriver('compose', behaviour)}
}
