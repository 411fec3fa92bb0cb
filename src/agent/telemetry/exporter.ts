import {hostname} from 'node:os'
import type {Logger} from '../../util/log.ts'
import {metricsPayload, metricsUrl, type ProcessSample} from './otlp-metrics.ts'

const STARTED_AT = Date.now() - process.uptime() * 1000

export function sampleProcess(now = Date.now()): ProcessSample {
  const usage = process.cpuUsage()
  return {at: now, rssBytes: process.memoryUsage.rss(), cpuSeconds: (usage.user + usage.system) / 1e6, startedAt: STARTED_AT}
}

/**
 * Push the agent's resource usage to the device's collector every `intervalMs` until stopped.
 * Failures are logged at debug level only: telemetry must never disturb the agent.
 */
export function startMetricsExporter(opts: {endpoint: string, intervalMs?: number, version: string, clientId: () => string | undefined, log: Logger}): () => void {
  const url = metricsUrl(opts.endpoint)
  const push = async () => {
    try {
      const body = JSON.stringify(metricsPayload(sampleProcess(), {serviceVersion: opts.version, hostName: hostname(), clientId: opts.clientId()}))
      const res = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json'}, body, signal: AbortSignal.timeout(10_000)})
      if (!res.ok) opts.log.debug('telemetry.rejected', {status: res.status})
    } catch (err) {
      opts.log.debug('telemetry.unreachable', {reason: err instanceof Error ? err.message : String(err)})
    }
  }
  void push()
  const timer = setInterval(push, opts.intervalMs ?? 60_000)
  return () => clearInterval(timer)
}
