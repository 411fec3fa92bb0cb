import type {ApplicationDeployment} from '../../margo/deployment.ts'
import type {ComponentResult, Driver, DriverContext} from '../types.ts'
import {installInOrder, removeInReverse} from './sequence.ts'
import type {DriverType} from './index.ts'

/**
 * A driver that touches nothing on the host and reports every component as installed or
 * removed, through the same per-component sequence as the real drivers. It lets an operator
 * rehearse a rollout end to end (`margo agent --simulate-drivers`): onboarding, signatures,
 * desired-state checks and status reporting are all real, only helm and docker are left out.
 */
export function createSimulatedDriver(type: DriverType): Driver {
  const note = (ctx: DriverContext, verb: string, deployment: ApplicationDeployment) =>
    ctx.log.info(`driver.simulated_${verb}`, {deploymentId: deployment.metadata.annotations.id, profile: type, components: deployment.spec.deploymentProfile.components.map(c => c.name)})
  return {
    type,
    async apply(deployment, ctx, onComponent) {
      note(ctx, 'apply', deployment)
      // Announced like a real install, so a rehearsed removal takes the same path as a real one.
      return installInOrder(deployment.spec.deploymentProfile.components, ctx, onComponent, async () => ctx.changingHost?.())
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
export function createSimulatedDrivers(): Record<DriverType, Driver> {
  return {'helm.v3': createSimulatedDriver('helm.v3'), compose: createSimulatedDriver('compose')}
}
