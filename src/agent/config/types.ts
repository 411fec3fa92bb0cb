import type {LogFormat, LogLevel} from '../../util/log.ts'
import type {CapabilityOverrides} from '../capabilities/build.ts'

export type ConfigSource = 'flag' | 'env' | 'file' | 'default'
export type AgentKeyType = 'p256' | 'p384' | 'rsa2048'

export interface OtelConfig {
  httpEndpoint: string
  grpcEndpoint?: string
  /** Path of a PEM file handed to workloads as OTEL_EXPORTER_OTLP_CERTIFICATE. */
  certificate?: string
  protocol?: 'grpc' | 'http/protobuf'
}

export interface AgentConfig {
  /** WFM root URL without a trailing slash; may carry a path prefix such as `/v1alpha2/margo`. */
  server: string
  stateDir: string
  configPath: string
  keyType: AgentKeyType
  keyFile?: string
  certFile?: string
  caFile?: string
  /** `sha256:<64 lowercase hex>` of the CA certificate's DER. */
  caFingerprint?: string
  insecureTofu: boolean
  /** Presented once before onboarding to be admitted without an operator's approval (src/agent/join.ts). */
  joinToken?: string
  /** Milliseconds between polls. */
  pollingIntervalRate: number
  /** Daily windows `HH:MM-HH:MM` in which polling happens. */
  pollingIntervalPeriod: string[]
  /** Handed to the scheduler as written; it validates them. */
  downtimeWindows: unknown[]
  /** IANA zone for the windows; absent means the host's local time. */
  timezone?: string
  capabilities: CapabilityOverrides
  workloadDir: string
  helm?: string
  docker?: string
  otel?: OtelConfig
  /** HOST:PORT on loopback where the agent answers GET /metrics (Prometheus text format); off when absent. */
  metricsListen?: string
  logFormat?: LogFormat
  logLevel: LogLevel
}

export type ConfigKey = keyof AgentConfig

/** Raw values as a command line parser hands them over; every one is validated like file input. */
export type AgentConfigInput = Partial<Record<ConfigKey, unknown>>

export interface LoadAgentConfigOptions {
  flags: AgentConfigInput
  env: Record<string, string | undefined>
  /** The file named on the command line; the same as `flags.configPath`. */
  configPath?: string
  /** Defaults that depend on the user and host; replaceable so results do not depend on the caller's machine. */
  defaults?: {stateDir?: string, configPath?: string}
}

export interface LoadedAgentConfig {
  config: AgentConfig
  sources: Record<ConfigKey, ConfigSource>
}
