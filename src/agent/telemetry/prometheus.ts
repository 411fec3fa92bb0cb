/**
 * The agent's own Prometheus metrics, served on `--metrics-listen` (plain HTTP, loopback only).
 * Loaded only when that setting is given, so an agent nobody scrapes carries none of it.
 */
import type {DeploymentState} from '../../margo/status.ts'
import type {ProfileType} from '../../margo/vocabulary.ts'
import type {Logger} from '../../util/log.ts'
import {splitListen} from '../../util/listen.ts'
import {EXPOSITION_CONTENT_TYPE, processFamilies, Registry, renderExposition} from '../../util/metrics.ts'
import type {AgentMetrics} from '../runtime/context.ts'
import {isSuccessfulOutcome} from '../status-view.ts'

/** Seconds: a simulated apply takes milliseconds, a helm install with image pulls minutes. */
export const APPLY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

/** The driver label: which tool applied (or would have applied) the deployment. */
const driverOf = (profile: ProfileType, simulated: boolean) => (simulated ? 'simulated' : profile === 'helm.v3' ? 'helm' : 'compose')

export interface AgentMetricsRegistry extends AgentMetrics {
  /** The text exposition of everything counted so far. */
  render(): string
}

export function createAgentMetrics(opts: {version: string, simulated: boolean}): AgentMetricsRegistry {
  const registry = new Registry()
  const cycles = registry.counter('margo_agent_sync_cycles_total', 'Polls of the desired state by outcome (not-modified, same, accepted, rejected, fetch-failed, failed).')
  const lastSuccess = registry.gauge('margo_agent_last_successful_sync_timestamp_seconds', 'When a poll last reached the WFM and left the agent holding its desired state, in seconds since the epoch.')
  const applies = registry.histogram('margo_agent_apply_duration_seconds', 'Time a driver took to apply one deployment, by driver and the state it left.', APPLY_BUCKETS)
  let outbox: () => number = () => 0
  registry.onCollect(() => [
    {name: 'margo_agent_outbox_reports', help: 'Status reports waiting to be sent to the WFM.', type: 'gauge', samples: [{name: 'margo_agent_outbox_reports', labels: {}, value: outbox()}]},
    ...processFamilies(),
    {name: 'margo_build_info', help: 'The running margo: version and runtime.', type: 'gauge', samples: [{name: 'margo_build_info', labels: {version: opts.version, runtime: `bun-${Bun.version}`}, value: 1}]},
  ])
  let lastSuccessMs = 0
  const succeeded = (at: Date) => {
    if (at.getTime() <= lastSuccessMs) return
    lastSuccessMs = at.getTime()
    lastSuccess.set({}, lastSuccessMs / 1000)
  }
  return {
    cycle(outcome: string, at: Date) {
      cycles.inc({outcome})
      if (isSuccessfulOutcome(outcome)) succeeded(at)
    },
    succeededBefore: succeeded,
    applied(profile: ProfileType, state: DeploymentState, seconds: number) {
      applies.observe({driver: driverOf(profile, opts.simulated), state}, seconds)
    },
    outboxDepth(size: () => number) {
      outbox = size
    },
    render: () => renderExposition(registry.collect()),
  }
}

/** Serves GET /metrics on `listen` (already checked to be loopback); logs the bound address, which matters with port 0. */
export function serveAgentMetrics(listen: string, metrics: AgentMetricsRegistry, log: Logger): {url: string, stop(): void} {
  const {hostname, port} = splitListen(listen, '127.0.0.1')!
  let server: ReturnType<typeof Bun.serve>
  try {
    server = Bun.serve({
      hostname, port, development: false,
      fetch: request => (request.method === 'GET' && new URL(request.url).pathname === '/metrics'
        ? new Response(metrics.render(), {headers: {'content-type': EXPOSITION_CONTENT_TYPE}})
        : new Response('not found\n', {status: 404})),
    })
  } catch (err) {
    throw new Error(`cannot listen for metrics on ${listen}: ${err instanceof Error ? err.message : String(err)}`, {cause: err})
  }
  const url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${server.port}/metrics`
  log.info('metrics.listening', {url})
  return {url, stop: () => server.stop(true)}
}
