import type {Logger} from '../util/log.ts'
import {createCatalogService} from './catalog/catalog-service.ts'
import {createDeploymentService} from './deployments/deployment-service.ts'
import type {EventBus} from './events.ts'
import {createRegistryService} from './registries/service.ts'
import {createRolloutService} from './rollouts/rollout-service.ts'
import type {Store} from './store/store.ts'

/** All the server's services need: none of them knows about HTTP or the operator API's context. */
export interface ServiceDeps {
  store: Store
  events: EventBus
  log: Logger
  now: () => Date
}

/** The catalog, deployment, rollout and registry services, built once where the server is assembled. */
export function createServices(deps: ServiceDeps) {
  const {store, events, log, now} = deps
  return {
    catalog: createCatalogService({store, events, now}),
    deployments: createDeploymentService({store, events, now}),
    rollouts: createRolloutService({store, events, now}),
    registries: createRegistryService({store, events, log, now}),
  }
}

export type Services = ReturnType<typeof createServices>
