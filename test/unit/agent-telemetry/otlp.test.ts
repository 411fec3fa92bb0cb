import {expect, test} from 'bun:test'
import {startMetricsExporter} from '../../../src/agent/telemetry/exporter.ts'
import {metricsPayload, metricsUrl} from '../../../src/agent/telemetry/otlp-metrics.ts'
import {silentLogger} from '../../../src/util/log.ts'

test('CL-35: the agent\'s memory and CPU are expressed as OTLP metrics with its identity', () => {
  const p = metricsPayload({at: 1_700_000_000_000, rssBytes: 90_000_000, cpuSeconds: 1.5, startedAt: 1_699_999_000_000}, {serviceVersion: '0.1.0', hostName: 'edge-7', clientId: 'abc'})
  const rm = p.resourceMetrics[0]!
  expect(rm.resource.attributes).toContainEqual({key: 'service.name', value: {stringValue: 'margo-agent'}})
  expect(rm.resource.attributes).toContainEqual({key: 'margo.client.id', value: {stringValue: 'abc'}})
  const [memory, cpu] = rm.scopeMetrics[0]!.metrics
  expect(memory!.gauge!.dataPoints[0]!.asInt).toBe('90000000')
  expect(memory!.gauge!.dataPoints[0]!.timeUnixNano).toBe('1700000000000000000')
  expect(cpu!.sum!.dataPoints[0]!.asDouble).toBe(1.5)
  expect(cpu!.sum!.isMonotonic).toBe(true)
})

test('metrics URL: a base endpoint gets /v1/metrics, a full one is kept', () => {
  expect(metricsUrl('http://127.0.0.1:4318')).toBe('http://127.0.0.1:4318/v1/metrics')
  expect(metricsUrl('http://127.0.0.1:4318/v1/metrics')).toBe('http://127.0.0.1:4318/v1/metrics')
})

test('CL-35: the exporter pushes to a collector on loopback', async () => {
  const received: unknown[] = []
  const collector = Bun.serve({hostname: '127.0.0.1', port: 0, async fetch(req) {
    received.push({path: new URL(req.url).pathname, type: req.headers.get('content-type'), body: await req.json()})
    return new Response('{}')
  }})
  const stop = startMetricsExporter({endpoint: `http://127.0.0.1:${collector.port}`, intervalMs: 50, version: 't', clientId: () => 'c1', log: silentLogger})
  while (received.length < 2) await Bun.sleep(10)
  stop()
  collector.stop(true)
  expect(received[0]).toMatchObject({path: '/v1/metrics', type: 'application/json'})
  expect(JSON.stringify(received[0])).toContain('process.memory.usage')
})
