import {ConfigError} from './errors.ts'
import type {OtelConfig} from './types.ts'
import {at, invalid, mapping, oneOf, path, text, type Origin} from './values.ts'

const OTEL_KEYS = ['httpEndpoint', 'grpcEndpoint', 'certificate', 'protocol'] as const

/** The otel setting: where workloads send telemetry. */
export function otel(o: Origin, value: unknown): OtelConfig {
  const v = mapping(o, value, OTEL_KEYS)
  const endpoint = (key: 'httpEndpoint' | 'grpcEndpoint', raw: unknown) => {
    const eo = at(o, key)
    const s = text(eo, raw, 'an http:// or https:// URL of the OpenTelemetry collector')
    let url: URL | undefined
    try {
      url = new URL(s)
    } catch { /* reported below */ }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw invalid(eo, raw, 'an http:// or https:// URL of the OpenTelemetry collector')
    return s
  }
  if (v.httpEndpoint === undefined) {
    throw new ConfigError(`${o.key}.httpEndpoint is required when ${o.key} is set (in ${o.where})`, {
      code: 'missing_value', key: `${o.key}.httpEndpoint`, source: o.source, origin: o.where, accepted: 'the OTLP HTTP URL of the collector',
    })
  }
  const out: OtelConfig = {httpEndpoint: endpoint('httpEndpoint', v.httpEndpoint)}
  if (v.grpcEndpoint !== undefined) out.grpcEndpoint = endpoint('grpcEndpoint', v.grpcEndpoint)
  if (v.certificate !== undefined) out.certificate = path(at(o, 'certificate'), v.certificate)
  if (v.protocol !== undefined) out.protocol = oneOf(at(o, 'protocol'), v.protocol, ['grpc', 'http/protobuf'] as const)
  return out
}
