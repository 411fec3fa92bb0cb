import {caFingerprint} from './ca-fingerprint.ts'
import {capabilities} from './capability-overrides.ts'
import {otel} from './otel.ts'
import {downtimeWindows, pollPeriod, pollRate, timezone} from './polling.ts'
import type {AgentConfig, ConfigKey} from './types.ts'
import {bool, invalid, oneOf, path, text, type Origin} from './values.ts'
import {isLoopbackHost, splitListen} from '../../util/listen.ts'

function serverUrl(o: Origin, value: unknown): string {
  const accepted = 'an https:// URL of the fleet manager, e.g. https://wfm.example.com or https://wfm.example.com/v1alpha2/margo'
  const raw = text(o, value, accepted)
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw invalid(o, value, accepted, 'not a URL')
  }
  if (url.protocol !== 'https:') throw invalid(o, value, accepted, 'the fleet manager is only ever reached over HTTPS')
  if (url.username || url.password) throw invalid(o, value, accepted, 'credentials do not belong in the URL')
  if (url.search || url.hash) throw invalid(o, value, accepted, 'a query or fragment cannot be part of the root URL')
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`
}

/** The metrics listener needs no token, so like `margo serve --metrics-listen` it binds loopback only. */
function metricsListen(o: Origin, value: unknown): string {
  const accepted = 'a loopback HOST:PORT such as 127.0.0.1:9464 or [::1]:9464 (port 0: any free port, logged at start)'
  const raw = text(o, value, accepted).trim()
  const parsed = splitListen(raw, '')
  if (!parsed) throw invalid(o, value, accepted, 'not HOST:PORT')
  if (!isLoopbackHost(parsed.hostname)) throw invalid(o, value, accepted, 'the metrics listener speaks plain HTTP without a token, so it listens on loopback only; put a proxy in front to publish it')
  return raw
}

/** How each key is read. Values from flags and env are strings or what a flag parser produced. */
export const PARSERS: {[K in ConfigKey]: (o: Origin, value: unknown) => AgentConfig[K]} = {
  server: serverUrl,
  stateDir: path,
  configPath: path,
  keyType: (o, v) => oneOf(o, v, ['p256', 'p384', 'rsa2048'] as const),
  keyFile: path,
  certFile: path,
  caFile: path,
  caFingerprint,
  insecureTofu: bool,
  joinToken: (o, v) => text(o, v, 'the join token from margo device join-token create'),
  pollingIntervalRate: pollRate,
  pollingIntervalPeriod: pollPeriod,
  downtimeWindows,
  timezone,
  capabilities,
  workloadDir: path,
  helm: (o, v) => text(o, v, 'the path or name of the helm binary'),
  docker: (o, v) => text(o, v, 'the path or name of the docker binary'),
  otel,
  metricsListen,
  logFormat: (o, v) => oneOf(o, v, ['text', 'json'] as const),
  logLevel: (o, v) => oneOf(o, v, ['debug', 'info', 'warn', 'error'] as const),
}
