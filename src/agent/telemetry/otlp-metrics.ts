/**
 * The agent's own resource usage as OTLP metrics (JSON encoding of OTLP/HTTP), so a device's
 * OpenTelemetry collector sees the management client like any workload when the agent does
 * not run in a container (specification §6.2, CL-35).
 */
export interface ProcessSample {
  /** Unix time in milliseconds. */
  at: number
  /** Resident memory in bytes. */
  rssBytes: number
  /** CPU time used since the process started, in seconds (user + system). */
  cpuSeconds: number
  startedAt: number
}

const attr = (key: string, value: string) => ({key, value: {stringValue: value}})
const nanos = (ms: number) => `${BigInt(Math.round(ms)) * 1_000_000n}`

/** The OTLP `ExportMetricsServiceRequest` for one sample: a memory gauge and a CPU-time sum. */
export function metricsPayload(sample: ProcessSample, resource: {serviceVersion: string, hostName: string, clientId?: string}) {
  const attributes = [attr('service.name', 'margo-agent'), attr('service.version', resource.serviceVersion), attr('host.name', resource.hostName)]
  if (resource.clientId) attributes.push(attr('margo.client.id', resource.clientId))
  return {
    resourceMetrics: [{
      resource: {attributes},
      scopeMetrics: [{
        scope: {name: 'margo-agent', version: resource.serviceVersion},
        metrics: [
          {name: 'process.memory.usage', unit: 'By', description: 'Resident memory of the margo agent', gauge: {dataPoints: [{timeUnixNano: nanos(sample.at), asInt: String(sample.rssBytes)}]}},
          {name: 'process.cpu.time', unit: 's', description: 'CPU time used by the margo agent',
            sum: {aggregationTemporality: 2, isMonotonic: true, dataPoints: [{startTimeUnixNano: nanos(sample.startedAt), timeUnixNano: nanos(sample.at), asDouble: sample.cpuSeconds}]}},
        ],
      }],
    }],
  }
}

/** The OTLP/HTTP metrics URL for a configured endpoint (the base, or a URL already ending in /v1/metrics). */
export function metricsUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '')
  return trimmed.endsWith('/v1/metrics') ? trimmed : `${trimmed}/v1/metrics`
}
