import type {Logger} from '../util/log.ts'
import type {LivenessThresholds} from '../operator-contract/liveness.ts'
import {createCatalogService} from './catalog/catalog-service.ts'
import {createDeploymentService} from './deployments/deployment-service.ts'
import type {EventBus} from './events.ts'
import {createRegistryService} from './registries/service.ts'
import {createRolloutService} from './rollouts/rollout-service.ts'
import {ephemeralSecretBox, type SecretBox} from './secrets/cipher.ts'
import {createSecretService} from './secrets/service.ts'
import {createWindowService} from './rollouts/windows-service.ts'
import type {Store} from './store/store.ts'

/** All the server's services need: none of them knows about HTTP or the operator API's context. */
export interface ServiceDeps {
  store: Store
  events: EventBus
  log: Logger
  now: () => Date
  /** Seals secrets at rest: `margo serve` passes the data dir's key; without one (tests) a key lives as long as the process. */
  secretBox?: SecretBox
  /** Last-seen times not yet flushed, and the liveness thresholds: staged rollouts judge offline devices by them. */
  lastSeen?: () => ReadonlyMap<string, string>
  thresholds?: LivenessThresholds
}

/** The catalog, deployment, rollout, secret and registry services, built once where the server is assembled. */
export function createServices(deps: ServiceDeps) {
  const {store, events, log, now, lastSeen, thresholds} = deps
  const secretService = createSecretService({store, events, now, box: deps.secretBox ?? ephemeralSecretBox()})
  // Rendering reads secrets through this one reader: values stay references everywhere else.
  const secrets = secretService.reader()
  return {
    catalog: createCatalogService({store, events, now}),
    deployments: createDeploymentService({store, events, now, secrets}),
    rollouts: createRolloutService({store, events, now, secrets, ...(lastSeen ? {lastSeen} : {}), ...(thresholds ? {thresholds} : {})}),
    secrets: secretService,
    registries: createRegistryService({store, events, log, now}),
    windows: createWindowService({store, now}),
  }
}

export type Services = ReturnType<typeof createServices>
