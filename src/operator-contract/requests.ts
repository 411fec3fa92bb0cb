/**
 * Bodies the operator API (`/operator/v1`) reads: what a client may send. The server checks
 * them field by field at the edge; these types say what it accepts.
 */
import type {RegistryKind} from './views.ts'
import type {SetForRequest, StrategyRequest, UpdateWindowRequest} from './strategy.ts'

export type {UpdateWindowRequest}

export interface CreateDeploymentRequest {
  appId: string
  version?: string
  clientId: string
  /** `helm.v3`, `compose`, or a profile id. */
  profile?: string
  values?: Record<string, unknown>
}

export interface UpdateDeploymentRequest {
  version?: string
  values?: Record<string, unknown>
}

export interface RolloutRequest {
  /** Default: the app id. An existing rollout of that name is updated. */
  name?: string
  appId: string
  version?: string
  devices?: string[]
  selector?: string
  profile?: string
  values?: Record<string, unknown>
  /** Values for the devices a selector matches; later entries win. */
  setFor?: SetForRequest[]
  /** Stage the rollout in waves; absent: every device at once. */
  strategy?: StrategyRequest
  dryRun?: boolean
}

export interface RolloutPatchRequest {
  /** null follows the latest version again. */
  version?: string | null
  values?: Record<string, unknown>
  selector?: string
  dryRun?: boolean
}

export interface RolloutUndoRequest {
  /** Default: the revision before the current one. */
  toRevision?: number
  dryRun?: boolean
}

export interface AddRegistryRequest {
  name: string
  kind: RegistryKind
  url: string
  ref?: string
  repositories?: string[]
  username?: string
  password?: string
  token?: string
  intervalSeconds?: number
}
