import type {DeploymentState} from '../../margo/status.ts'
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
  /** Counts for `--metrics-listen`; absent when no one scrapes the agent. */
  metrics?: AgentMetrics
}

/** What the agent counts for its Prometheus endpoint (src/agent/telemetry/prometheus.ts). */
export interface AgentMetrics {
  /** A poll of the desired state ended with `outcome` (not-modified, same, accepted, rejected, fetch-failed, failed) at `at`. */
  cycle(outcome: string, at: Date): void
  /** The last successful poll before this process started, from the state directory. */
  succeededBefore(at: Date): void
  /** One driver apply of a deployment took `seconds` and left it `state`. */
  applied(profile: ProfileType, state: DeploymentState, seconds: number): void
  /** Reports waiting in the outbox, read at each scrape. */
  outboxDepth(size: () => number): void
}
