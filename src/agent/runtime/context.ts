import type {ProfileType} from '../../margo/vocabulary.ts'
import type {Logger} from '../../util/log.ts'
import type {DeviceClient} from '../device-client.ts'
import type {Outbox} from '../state/outbox.ts'
import type {StateStore} from '../state/state-dir.ts'
import type {WorkloadStore} from '../state/workloads.ts'
import type {Driver, DriverContext} from '../types.ts'

/** Everything one running agent shares between its sync, reconcile and report steps. */
export interface AgentContext {
  client: DeviceClient
  state: StateStore
  workloads: WorkloadStore
  outbox: Outbox
  drivers: Record<ProfileType, Driver>
  log: Logger
  now: () => Date
  rng: () => number
  /** Builds the context a driver gets for one deployment. */
  driverContext(deploymentId: string): DriverContext
  /** True while communication is suppressed (a downtime window): logs of failures are quieted too. */
  quiet(): boolean
}
