import type {ApplicationDeployment} from '../margo/deployment.ts'
import type {DeploymentState} from '../margo/status.ts'

/** An error a device reports in a DeploymentStatusManifest: a stable code and a human message. */
export interface ReportedError {
  code: string
  message: string
}

/** The outcome of one component after a driver acted on it. */
export interface ComponentResult {
  name: string
  state: DeploymentState
  error?: ReportedError
}

/** Called by a driver whenever a component changes state, so progress can be reported as it happens. */
export type ComponentListener = (result: ComponentResult) => void

/** What a driver needs from the agent besides the deployment itself. */
export interface DriverContext {
  /** A private directory for this deployment (values files, .env, extracted packages); kept between runs. */
  workDir: string
  /** Paths of the binaries, found on PATH when not configured. */
  binaries: {helm?: string, docker?: string}
  /** OpenTelemetry settings injected into workloads (spec §6.2), when configured on the device. */
  otel?: {httpEndpoint: string, grpcEndpoint?: string, certificate?: string, protocol?: 'grpc' | 'http/protobuf'}
  /** Downloads a URL (compose packages, their signatures and keys). */
  download(url: string): Promise<Uint8Array>
  /**
   * Drivers call this right before starting a command that may change the host (helm upgrade,
   * compose up); the mark is on disk when it returns. A deployment never marked has nothing to
   * undo and is removed without its driver, so a driver that skips the call leaks workloads.
   */
  changingHost?(): void
  /** Stops long operations when the agent shuts down. */
  signal?: AbortSignal
  log: {info(event: string, fields?: Record<string, unknown>): void, warn(event: string, fields?: Record<string, unknown>): void}
}

/**
 * One workload runtime (helm.v3, compose). Drivers never throw for workload failures: they
 * return failed components with an error code; only programming errors escape.
 */
export interface Driver {
  readonly type: 'helm.v3' | 'compose'
  apply(deployment: ApplicationDeployment, ctx: DriverContext, onComponent?: ComponentListener): Promise<ComponentResult[]>
  remove(deployment: ApplicationDeployment, ctx: DriverContext, onComponent?: ComponentListener): Promise<ComponentResult[]>
  status(deployment: ApplicationDeployment, ctx: DriverContext): Promise<ComponentResult[]>
}
