import {createLogger} from '../util/log.ts'
import {loadAgentConfig, renderConfig, type AgentConfigInput} from './config/index.ts'
import {createDrivers} from './drivers/index.ts'
import {createSimulatedDrivers} from './drivers/simulated.ts'
import {runAgent} from './runtime/agent.ts'

export interface AgentCommandInput {
  flags: AgentConfigInput
  env: Record<string, string | undefined>
  printConfig: boolean
  once: boolean
  /** Use drivers that report success without touching the host (rehearsals, conformance runs). */
  simulateDrivers?: boolean
  write: (text: string) => void
  version: string
}

/** `margo agent`: resolve the configuration, then run until SIGTERM/SIGINT (or one cycle with --once). */
export async function agentMain(input: AgentCommandInput): Promise<void> {
  const {config, sources} = loadAgentConfig({flags: input.flags, env: input.env, configPath: input.flags.configPath as string | undefined})
  if (input.printConfig) {
    input.write(renderConfig(config, sources))
    return
  }
  const log = createLogger({level: config.logLevel, format: config.logFormat})
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  // Loaded only when asked for: an agent nobody scrapes keeps its footprint.
  const prometheus = config.metricsListen ? await import('./telemetry/prometheus.ts') : undefined
  const metrics = prometheus?.createAgentMetrics({version: input.version, simulated: input.simulateDrivers ?? false})
  const listener = prometheus && metrics ? prometheus.serveAgentMetrics(config.metricsListen!, metrics, log) : undefined
  log.info('agent.started', {version: input.version, server: config.server, stateDir: config.stateDir, pollIntervalMs: config.pollingIntervalRate})
  if (input.simulateDrivers) log.warn('agent.simulated_drivers', {why: 'helm and docker are never run: every deployment is reported installed or removed without touching this host'})
  if (config.insecureTofu) log.warn('agent.unsafe_setting', {setting: 'insecure-tofu', why: 'the WFM root CA is trusted on first use; pin it with --ca-fingerprint or give --ca-file'})
  try {
    await runAgent({config, log, drivers: input.simulateDrivers ? createSimulatedDrivers() : createDrivers(), signal: controller.signal, once: input.once, metrics})
  } finally {
    listener?.stop()
    process.off('SIGTERM', stop)
    process.off('SIGINT', stop)
  }
}
