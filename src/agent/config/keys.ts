/** The names of the agent's settings: flags, environment variables, file keys, and help with typos. */
import {ConfigError} from './errors.ts'
import type {ConfigKey, ConfigSource} from './types.ts'

/** Command-line spelling of each setting, for messages. */
export const AGENT_FLAG_NAMES: Readonly<Partial<Record<ConfigKey, string>>> = {
  server: '--server',
  stateDir: '--state-dir',
  configPath: '--config',
  keyType: '--key-type',
  keyFile: '--key',
  certFile: '--cert',
  caFile: '--ca-file',
  caFingerprint: '--ca-fingerprint',
  insecureTofu: '--insecure-tofu',
  joinToken: '--join-token',
  pollingIntervalRate: '--poll-interval',
  pollingIntervalPeriod: '--poll-period',
  timezone: '--timezone',
  workloadDir: '--workload-dir',
  helm: '--helm',
  docker: '--docker',
  metricsListen: '--metrics-listen',
  logFormat: '--log-format',
  logLevel: '--log-level',
}

/** Environment variables the agent reads. Empty values count as unset, as container runtimes often pass them. */
export const AGENT_ENV_VARS: Readonly<Record<string, ConfigKey>> = {
  MARGO_SERVER: 'server',
  MARGO_AGENT_STATE_DIR: 'stateDir',
  MARGO_AGENT_CONFIG: 'configPath',
  MARGO_AGENT_KEY_TYPE: 'keyType',
  MARGO_AGENT_KEY: 'keyFile',
  MARGO_AGENT_CERT: 'certFile',
  MARGO_CA_FILE: 'caFile',
  MARGO_CA_FINGERPRINT: 'caFingerprint',
  MARGO_INSECURE_TOFU: 'insecureTofu',
  MARGO_JOIN_TOKEN: 'joinToken',
  MARGO_POLL_INTERVAL: 'pollingIntervalRate',
  MARGO_POLL_PERIOD: 'pollingIntervalPeriod',
  MARGO_TIMEZONE: 'timezone',
  MARGO_WORKLOAD_DIR: 'workloadDir',
  MARGO_HELM: 'helm',
  MARGO_DOCKER: 'docker',
  MARGO_AGENT_METRICS_LISTEN: 'metricsListen',
  MARGO_LOG_FORMAT: 'logFormat',
  MARGO_LOG_LEVEL: 'logLevel',
}

/** Order of keys in the effective configuration and in `--print-config`. */
export const KEYS: readonly ConfigKey[] = [
  'server', 'stateDir', 'configPath', 'keyType', 'keyFile', 'certFile', 'caFile', 'caFingerprint', 'insecureTofu', 'joinToken',
  'pollingIntervalRate', 'pollingIntervalPeriod', 'downtimeWindows', 'timezone', 'capabilities', 'workloadDir',
  'helm', 'docker', 'otel', 'metricsListen', 'logFormat', 'logLevel',
]

/** Keys a file may set: naming another config file from inside one would be circular. */
export const FILE_KEYS = KEYS.filter(k => k !== 'configPath')

/** Names people reach for that the file spells differently. */
const KEY_ALIASES: Readonly<Record<string, string>> = {
  url: 'server', wfm: 'server', serverurl: 'server', wfmurl: 'server',
  key: 'keyFile', cert: 'certFile', certificate: 'certFile', ca: 'caFile', cafile: 'caFile', cacert: 'caFile',
  fingerprint: 'caFingerprint', tofu: 'insecureTofu',
  interval: 'pollingIntervalRate', pollinterval: 'pollingIntervalRate', pollingrate: 'pollingIntervalRate', pollingintervalrate: 'pollingIntervalRate',
  pollperiod: 'pollingIntervalPeriod', pollingperiod: 'pollingIntervalPeriod', pollingwindows: 'pollingIntervalPeriod',
  downtime: 'downtimeWindows', tz: 'timezone', metrics: 'metricsListen', metricslisten: 'metricsListen', prometheus: 'metricsListen', loglevel: 'logLevel', logformat: 'logFormat',
}

function editDistance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = cur
    }
  }
  return row[b.length]!
}

/** The known key a mistyped one most likely meant, if any is close. */
export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '')
  const target = squash(unknown)
  const alias = KEY_ALIASES[target]
  if (alias && known.includes(alias)) return alias
  const exact = known.find(k => squash(k) === target)
  if (exact) return exact
  let best: string | undefined
  let bestDistance = Infinity
  for (const k of known) {
    const d = editDistance(target, squash(k))
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(target.length / 4)) ? best : undefined
}

/** One error naming every unknown key, each with the likely meant one when a known key is close. */
export function unknownKeys(source: ConfigSource, where: string, keys: string[], known: readonly string[]): ConfigError {
  const described = keys.map(k => {
    const leaf = k.split('.').pop()!
    const prefix = k.slice(0, k.length - leaf.length)
    const siblings = known.filter(n => n.startsWith(prefix) && !n.slice(prefix.length).includes('.')).map(n => n.slice(prefix.length))
    const hint = suggestKey(leaf, siblings)
    return hint ? `${k} (did you mean ${prefix}${hint}?)` : k
  })
  return new ConfigError(
    `unknown ${keys.length === 1 ? 'key' : 'keys'} in ${where}: ${described.join(', ')} — the agent reads ${known.join(', ')}`,
    {code: 'unknown_key', key: keys[0]!, source, origin: where, accepted: known.join(', '), unknownKeys: keys},
  )
}
