import {readFileSync} from 'node:fs'
import {dirname, isAbsolute, join, resolve} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {renderSettings} from '../cli/print-config.ts'
import {MargoError} from '../util/errors.ts'
import {defaultAgentConfigPath, defaultAgentStateDir} from '../config/paths.ts'
import {matchEnum} from '../margo/check.ts'
import {MEMORY_UNITS, STORAGE_UNITS, readQuantity, type BinaryUnit} from '../margo/quantity.ts'
import {
  ARCHITECTURES, ARCHITECTURE_ALIASES, DEVICE_ROLES, DEVICE_ROLE_ALIASES, INTERFACE_TYPES, PERIPHERAL_TYPES,
} from '../margo/vocabulary.ts'
import type {LogFormat, LogLevel} from '../util/log.ts'
import type {CapabilityOverrides, PeripheralOverride} from './capabilities/build.ts'
import {parseDuration} from '../util/duration.ts'
import {parsePeriod} from './schedule/windows.ts'

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

export type ConfigErrorCode = 'invalid_value' | 'unknown_key' | 'missing_value' | 'unreadable_file'

/** A setting the agent cannot start with. Names the key, where the value came from and what is accepted. */
export class ConfigError extends MargoError {
  readonly exitCode = 2
  readonly key: string
  readonly source: ConfigSource
  /** `--server`, `MARGO_SERVER`, a file path, or `default`. */
  readonly origin: string
  readonly accepted: string
  readonly unknownKeys: string[]

  constructor(message: string, details: {code: ConfigErrorCode, key: string, source: ConfigSource, origin: string, accepted?: string, unknownKeys?: string[], cause?: unknown}) {
    super(message, {code: details.code, cause: details.cause})
    this.key = details.key
    this.source = details.source
    this.origin = details.origin
    this.accepted = details.accepted ?? ''
    this.unknownKeys = details.unknownKeys ?? []
  }
}

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
  pollingIntervalRate: '--poll-interval',
  pollingIntervalPeriod: '--poll-period',
  timezone: '--timezone',
  workloadDir: '--workload-dir',
  helm: '--helm',
  docker: '--docker',
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
  MARGO_POLL_INTERVAL: 'pollingIntervalRate',
  MARGO_POLL_PERIOD: 'pollingIntervalPeriod',
  MARGO_TIMEZONE: 'timezone',
  MARGO_WORKLOAD_DIR: 'workloadDir',
  MARGO_HELM: 'helm',
  MARGO_DOCKER: 'docker',
  MARGO_LOG_FORMAT: 'logFormat',
  MARGO_LOG_LEVEL: 'logLevel',
}

/** Order of keys in the effective configuration and in `--print-config`. */
const KEYS: readonly ConfigKey[] = [
  'server', 'stateDir', 'configPath', 'keyType', 'keyFile', 'certFile', 'caFile', 'caFingerprint', 'insecureTofu',
  'pollingIntervalRate', 'pollingIntervalPeriod', 'downtimeWindows', 'timezone', 'capabilities', 'workloadDir',
  'helm', 'docker', 'otel', 'logFormat', 'logLevel',
]

/** Keys a file may set: naming another config file from inside one would be circular. */
const FILE_KEYS = KEYS.filter(k => k !== 'configPath')

/** Names people reach for that the file spells differently. */
const KEY_ALIASES: Readonly<Record<string, string>> = {
  url: 'server', wfm: 'server', serverurl: 'server', wfmurl: 'server',
  key: 'keyFile', cert: 'certFile', certificate: 'certFile', ca: 'caFile', cafile: 'caFile', cacert: 'caFile',
  fingerprint: 'caFingerprint', tofu: 'insecureTofu',
  interval: 'pollingIntervalRate', pollinterval: 'pollingIntervalRate', pollingrate: 'pollingIntervalRate', pollingintervalrate: 'pollingIntervalRate',
  pollperiod: 'pollingIntervalPeriod', pollingperiod: 'pollingIntervalPeriod', pollingwindows: 'pollingIntervalPeriod',
  downtime: 'downtimeWindows', tz: 'timezone', loglevel: 'logLevel', logformat: 'logFormat',
}

const CAPABILITY_KEYS = ['id', 'vendor', 'modelNumber', 'serialNumber', 'roles', 'resources'] as const
const RESOURCE_KEYS = ['cpu', 'memory', 'storage', 'peripherals', 'interfaces'] as const
const CPU_KEYS = ['cores', 'architecture'] as const
const PERIPHERAL_KEYS = ['type', 'manufacturer', 'model'] as const
const OTEL_KEYS = ['httpEndpoint', 'grpcEndpoint', 'certificate', 'protocol'] as const

const DEFAULT_POLL_MS = 300_000
const MIN_POLL_MS = 1_000

// ---------------------------------------------------------------------------------------------
// Small parsers, exported because the command line and tests use the same rules.

/**
 * Milliseconds in a duration (seconds, `5m`/`1h30m`, ISO 8601 `PT5M`), as the scheduler reads
 * them; null instead of an exception so the caller can name the setting.
 */
export function parseDurationMs(value: unknown): number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null
  try {
    return parseDuration(value)
  } catch {
    return null
  }
}

/**
 * `sha256:<64 lowercase hex>` from the ways fingerprints are written: bare hex, `sha256:` hex,
 * colon-separated pairs (`AB:CD:…`), or openssl's `sha256 Fingerprint=AB:CD:…`. Null otherwise.
 */
export function parseCaFingerprint(text: string): string | null {
  const body = text.trim().replace(/^sha-?256(\s+fingerprint)?\s*[:=]\s*/i, '')
  const hex = body.replace(/[:\s]/g, '').toLowerCase()
  return /^[0-9a-f]{64}$/.test(hex) ? `sha256:${hex}` : null
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

// ---------------------------------------------------------------------------------------------
// Validation of one value from one source.

interface Origin {
  key: string
  source: ConfigSource
  /** `--server`, `MARGO_SERVER`, a file path. */
  where: string
  /** Directory relative paths are resolved against. */
  baseDir: string
}

function describeOrigin(o: Origin): string {
  switch (o.source) {
    case 'flag': return `flag ${o.where}`
    case 'env': return `environment variable ${o.where}`
    case 'file': return `${o.key} in ${o.where}`
    case 'default': return 'the default'
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

function invalid(o: Origin, value: unknown, accepted: string, reason?: string): ConfigError {
  const why = reason ? `: ${reason}` : ''
  return new ConfigError(
    `invalid ${o.key} ${show(value)} from ${describeOrigin(o)}${why} — expected ${accepted}`,
    {code: 'invalid_value', key: o.key, source: o.source, origin: o.where, accepted},
  )
}

function text(o: Origin, value: unknown, accepted = 'a non-empty string'): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(o, value, accepted)
  return value.trim()
}

function path(o: Origin, value: unknown): string {
  const p = text(o, value, 'a file system path')
  return isAbsolute(p) ? p : resolve(o.baseDir, p)
}

function oneOf<T extends string>(o: Origin, value: unknown, members: readonly T[]): T {
  const found = matchEnum(value, members)
  if (!found) throw invalid(o, value, `one of ${members.join(', ')}`)
  return found
}

function bool(o: Origin, value: unknown): boolean {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase()
    if (['1', 'true', 'yes', 'on'].includes(v)) return true
    if (['0', 'false', 'no', 'off'].includes(v)) return false
  }
  throw invalid(o, value, 'true or false')
}

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

function pollRate(o: Origin, value: unknown): number {
  const accepted = 'seconds (300), a duration such as 90s, 5m or 1h, or ISO 8601 such as PT5M; at least 1s'
  const ms = parseDurationMs(value)
  if (ms === null || ms < MIN_POLL_MS) throw invalid(o, value, accepted)
  return ms
}

function pollPeriod(o: Origin, value: unknown): string[] {
  const accepted = "daily windows 'HH:MM-HH:MM', e.g. ['06:00-22:00'] (a comma-separated list on the command line)"
  const list = typeof value === 'string' ? value.split(',') : value
  if (!Array.isArray(list) || list.length === 0) throw invalid(o, value, accepted)
  return list.map(item => {
    if (typeof item !== 'string') throw invalid(o, item, accepted)
    try {
      parsePeriod(item)
    } catch (err) {
      throw invalid(o, item, accepted, (err as Error).message)
    }
    return item.trim()
  })
}

function timezone(o: Origin, value: unknown): string {
  const tz = text(o, value, "an IANA time zone such as 'UTC' or 'Europe/Berlin'")
  try {
    new Intl.DateTimeFormat('en-US', {timeZone: tz})
  } catch {
    throw invalid(o, value, "an IANA time zone such as 'UTC' or 'Europe/Berlin'", 'unknown time zone')
  }
  return tz
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function at(o: Origin, key: string | number): Origin {
  return {...o, key: typeof key === 'number' ? `${o.key}[${key}]` : `${o.key}.${key}`}
}

function mapping(o: Origin, value: unknown, known: readonly string[]): Record<string, unknown> {
  if (!isRecord(value)) throw invalid(o, value, `a mapping with keys ${known.join(', ')}`)
  const unknown = Object.keys(value).filter(k => !known.includes(k))
  if (unknown.length > 0) throw unknownKeys(o.source, o.where, unknown.map(k => `${o.key}.${k}`), known.map(k => `${o.key}.${k}`))
  return value
}

function quantity(o: Origin, value: unknown, units: readonly BinaryUnit[]): string {
  const accepted = `an integer with a binary unit (${units.join(', ')}), e.g. '8Gi'`
  const q = typeof value === 'string' ? readQuantity(value, units) : null
  if (q === null) throw invalid(o, value, accepted)
  return q.canonical
}

function capabilities(o: Origin, value: unknown): CapabilityOverrides {
  const c = mapping(o, value, CAPABILITY_KEYS)
  const out: CapabilityOverrides = {}
  for (const k of ['id', 'vendor', 'modelNumber', 'serialNumber'] as const) {
    if (c[k] !== undefined) out[k] = text(at(o, k), typeof c[k] === 'number' ? String(c[k]) : c[k])
  }
  if (c.roles !== undefined) {
    const ro = at(o, 'roles')
    if (!Array.isArray(c.roles) || c.roles.length === 0) throw invalid(ro, c.roles, `a list of roles: ${DEVICE_ROLES.join(', ')}`)
    out.roles = c.roles.map((r, i) => {
      const role = matchEnum(r, DEVICE_ROLES, DEVICE_ROLE_ALIASES)
      if (!role) throw invalid(at(ro, i), r, `one of ${DEVICE_ROLES.join(', ')}`)
      return role
    })
  }
  if (c.resources !== undefined) {
    const ro = at(o, 'resources')
    const r = mapping(ro, c.resources, RESOURCE_KEYS)
    const res: NonNullable<CapabilityOverrides['resources']> = {}
    if (r.cpu !== undefined) {
      const co = at(ro, 'cpu')
      const cpu = mapping(co, r.cpu, CPU_KEYS)
      res.cpu = {}
      if (cpu.cores !== undefined) {
        if (typeof cpu.cores !== 'number' || !Number.isFinite(cpu.cores) || cpu.cores <= 0) throw invalid(at(co, 'cores'), cpu.cores, 'a positive number')
        res.cpu.cores = cpu.cores
      }
      if (cpu.architecture !== undefined) {
        const arch = matchEnum(cpu.architecture, ARCHITECTURES, ARCHITECTURE_ALIASES)
        if (!arch) throw invalid(at(co, 'architecture'), cpu.architecture, `one of ${ARCHITECTURES.join(', ')}`)
        res.cpu.architecture = arch
      }
    }
    if (r.memory !== undefined) res.memory = quantity(at(ro, 'memory'), r.memory, MEMORY_UNITS)
    if (r.storage !== undefined) res.storage = quantity(at(ro, 'storage'), r.storage, STORAGE_UNITS)
    if (r.peripherals !== undefined) {
      const po = at(ro, 'peripherals')
      if (!Array.isArray(r.peripherals)) throw invalid(po, r.peripherals, 'a list of {type, manufacturer?, model?}')
      res.peripherals = r.peripherals.map((p, i) => {
        const entry: Record<string, unknown> = typeof p === 'string' ? {type: p} : mapping(at(po, i), p, PERIPHERAL_KEYS)
        const type = matchEnum(entry.type, PERIPHERAL_TYPES)
        if (!type) throw invalid(at(at(po, i), 'type'), entry.type, `one of ${PERIPHERAL_TYPES.join(', ')}`)
        const out: PeripheralOverride = {type}
        if (entry.manufacturer !== undefined) out.manufacturer = text(at(at(po, i), 'manufacturer'), entry.manufacturer)
        if (entry.model !== undefined) out.model = text(at(at(po, i), 'model'), entry.model)
        return out
      })
    }
    if (r.interfaces !== undefined) {
      const io = at(ro, 'interfaces')
      if (!Array.isArray(r.interfaces)) throw invalid(io, r.interfaces, `a list of interface types: ${INTERFACE_TYPES.join(', ')}`)
      res.interfaces = r.interfaces.map((entry, i) => {
        const raw = isRecord(entry) ? mapping(at(io, i), entry, ['type']).type : entry
        const type = matchEnum(raw, INTERFACE_TYPES)
        if (!type) throw invalid(at(io, i), raw, `one of ${INTERFACE_TYPES.join(', ')}`)
        return type
      })
    }
    out.resources = res
  }
  return out
}

function otel(o: Origin, value: unknown): OtelConfig {
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

/** How each key is read. Values from flags and env are strings or what a flag parser produced. */
const PARSERS: {[K in ConfigKey]: (o: Origin, value: unknown) => AgentConfig[K]} = {
  server: serverUrl,
  stateDir: path,
  configPath: path,
  keyType: (o, v) => oneOf(o, v, ['p256', 'p384', 'rsa2048'] as const),
  keyFile: path,
  certFile: path,
  caFile: path,
  caFingerprint: (o, v) => {
    const accepted = "the SHA-256 fingerprint of the CA certificate, as 'sha256:<64 hex>' or colon-separated hex pairs"
    const fp = typeof v === 'string' ? parseCaFingerprint(v) : null
    if (!fp) throw invalid(o, v, accepted)
    return fp
  },
  insecureTofu: bool,
  pollingIntervalRate: pollRate,
  pollingIntervalPeriod: pollPeriod,
  downtimeWindows: (o, v) => {
    if (!Array.isArray(v)) throw invalid(o, v, 'a list of downtime windows')
    return v
  },
  timezone,
  capabilities,
  workloadDir: path,
  helm: (o, v) => text(o, v, 'the path or name of the helm binary'),
  docker: (o, v) => text(o, v, 'the path or name of the docker binary'),
  otel,
  logFormat: (o, v) => oneOf(o, v, ['text', 'json'] as const),
  logLevel: (o, v) => oneOf(o, v, ['debug', 'info', 'warn', 'error'] as const),
}

function unknownKeys(source: ConfigSource, where: string, keys: string[], known: readonly string[]): ConfigError {
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

// ---------------------------------------------------------------------------------------------
// Loading.

function readConfigFile(path: string, explicit: boolean, source: ConfigSource, where: string): Record<string, unknown> | undefined {
  let textContent: string
  try {
    textContent = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && !explicit) return undefined
    const reason = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : (err as Error).message
    throw new ConfigError(`cannot read the agent config file ${path} (from ${source === 'flag' ? 'flag' : 'environment variable'} ${where}): ${reason} — create it or name another file`, {
      code: 'unreadable_file', key: 'configPath', source, origin: where, accepted: 'a readable YAML file', cause: err,
    })
  }
  let doc: unknown
  try {
    doc = parseYaml(textContent)
  } catch (err) {
    throw new ConfigError(`${path} is not valid YAML: ${(err as Error).message.split('\n')[0]} — fix the file`, {
      code: 'invalid_value', key: 'configPath', source: 'file', origin: path, accepted: 'a YAML mapping', cause: err,
    })
  }
  if (doc === null || doc === undefined) return {}
  if (!isRecord(doc)) {
    throw new ConfigError(`${path} must be a YAML mapping of settings (server, stateDir, …), not ${Array.isArray(doc) ? 'a list' : typeof doc}`, {
      code: 'invalid_value', key: 'configPath', source: 'file', origin: path, accepted: 'a YAML mapping',
    })
  }
  const unknown = Object.keys(doc).filter(k => !(FILE_KEYS as readonly string[]).includes(k))
  if (unknown.length > 0) throw unknownKeys('file', path, unknown, FILE_KEYS)
  return doc
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '')
}

/**
 * The effective agent configuration. Each key comes from the first of: flag, environment
 * variable, config file, default. Relative paths in the file are relative to the file; on
 * the command line and in the environment, to the working directory. Throws ConfigError.
 */
export function loadAgentConfig(options: LoadAgentConfigOptions): LoadedAgentConfig {
  const {flags, env} = options
  const cwd = process.cwd()
  const envByKey = new Map<ConfigKey, {name: string, value: string}>()
  for (const [name, key] of Object.entries(AGENT_ENV_VARS)) {
    const value = env[name]
    if (present(value) && !envByKey.has(key)) envByKey.set(key, {name, value: value!})
  }

  // The config file location follows the same precedence as every other key.
  const flagConfig = flags.configPath ?? options.configPath
  let configPath: string
  let configSource: ConfigSource
  let configWhere: string
  if (present(flagConfig)) {
    configSource = 'flag'
    configWhere = AGENT_FLAG_NAMES.configPath!
    configPath = PARSERS.configPath({key: 'configPath', source: 'flag', where: configWhere, baseDir: cwd}, flagConfig)
  } else if (envByKey.has('configPath')) {
    const e = envByKey.get('configPath')!
    configSource = 'env'
    configWhere = e.name
    configPath = PARSERS.configPath({key: 'configPath', source: 'env', where: e.name, baseDir: cwd}, e.value)
  } else {
    configSource = 'default'
    configWhere = 'default'
    configPath = options.defaults?.configPath ?? defaultAgentConfigPath()
  }
  const file = readConfigFile(configPath, configSource !== 'default', configSource, configWhere) ?? {}
  const fileDir = dirname(configPath)

  const values: Partial<Record<ConfigKey, unknown>> = {configPath}
  const sources = {configPath: configSource} as Record<ConfigKey, ConfigSource>
  for (const key of KEYS) {
    if (key === 'configPath') continue
    const parse = PARSERS[key] as (o: Origin, v: unknown) => unknown
    const flagValue = flags[key]
    const envValue = envByKey.get(key)
    if (present(flagValue)) {
      values[key] = parse({key, source: 'flag', where: AGENT_FLAG_NAMES[key] ?? key, baseDir: cwd}, flagValue)
      sources[key] = 'flag'
    } else if (envValue) {
      values[key] = parse({key, source: 'env', where: envValue.name, baseDir: cwd}, envValue.value)
      sources[key] = 'env'
    } else if (present(file[key])) {
      values[key] = parse({key, source: 'file', where: configPath, baseDir: fileDir}, file[key])
      sources[key] = 'file'
    } else {
      sources[key] = 'default'
    }
  }

  if (values.server === undefined) {
    throw new ConfigError(
      `no fleet manager URL is configured — pass --server https://wfm.example.com, set MARGO_SERVER, or put "server: https://…" in ${configPath}`,
      {code: 'missing_value', key: 'server', source: 'default', origin: 'default', accepted: 'an https:// URL of the fleet manager'},
    )
  }
  const keyFile = values.keyFile as string | undefined
  const certFile = values.certFile as string | undefined
  if ((keyFile === undefined) !== (certFile === undefined)) {
    const given: ConfigKey = keyFile !== undefined ? 'keyFile' : 'certFile'
    const missing: ConfigKey = keyFile !== undefined ? 'certFile' : 'keyFile'
    throw new ConfigError(
      `${given} is set (from ${sources[given]}) but ${missing} is not — a bring-your-own identity needs both the private key (--key) and its certificate (--cert)`,
      {code: 'missing_value', key: missing, source: sources[given], origin: sources[given], accepted: 'both keyFile and certFile, or neither'},
    )
  }

  const stateDir = (values.stateDir as string | undefined) ?? options.defaults?.stateDir ?? defaultAgentStateDir()
  const config: AgentConfig = {
    server: values.server as string,
    stateDir,
    configPath,
    keyType: (values.keyType as AgentKeyType | undefined) ?? 'p256',
    insecureTofu: (values.insecureTofu as boolean | undefined) ?? false,
    pollingIntervalRate: (values.pollingIntervalRate as number | undefined) ?? DEFAULT_POLL_MS,
    pollingIntervalPeriod: (values.pollingIntervalPeriod as string[] | undefined) ?? ['00:00-24:00'],
    downtimeWindows: (values.downtimeWindows as unknown[] | undefined) ?? [],
    capabilities: (values.capabilities as CapabilityOverrides | undefined) ?? {},
    workloadDir: (values.workloadDir as string | undefined) ?? join(stateDir, 'workloads'),
    logLevel: (values.logLevel as LogLevel | undefined) ?? 'info',
  }
  for (const key of ['keyFile', 'certFile', 'caFile', 'caFingerprint', 'timezone', 'helm', 'docker', 'otel', 'logFormat'] as const) {
    if (values[key] !== undefined) (config as unknown as Record<string, unknown>)[key] = values[key]
  }
  return {config, sources}
}

// ---------------------------------------------------------------------------------------------
// Printing.

/** Names whose values are secret material. Paths to such material (`keyFile`) and `keyType` are not. */
const SECRET_NAME = /(token|password|passphrase|secret|credential|privatekey|apikey)/i
const KEY_MATERIAL_NAME = /key$/i

function isSecretName(name: string): boolean {
  if (/(file|path|dir|type|id)$/i.test(name)) return false
  return SECRET_NAME.test(name) || KEY_MATERIAL_NAME.test(name)
}

/** Copies `value` with secret members, and any string holding a PEM private key, replaced. */
export function redact(value: unknown, name = ''): unknown {
  if (name && isSecretName(name) && value !== undefined && value !== null) return '<redacted>'
  if (typeof value === 'string') return /PRIVATE KEY-----/.test(value) ? '<redacted>' : value
  if (Array.isArray(value)) return value.map(v => redact(v))
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]))
  return value
}

/** A duration in the compact form the config accepts, so the printout can be pasted back. */
function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}

/**
 * The effective configuration as YAML, each key annotated with where it came from. Unset
 * optional keys appear as comments so every setting the agent knows is visible.
 */
export function renderConfig(config: AgentConfig, sources: Partial<Record<ConfigKey, ConfigSource>>): string {
  const shown = Object.fromEntries(KEYS.map(key => {
    const raw = config[key]
    return [key, raw !== undefined && key === 'pollingIntervalRate' ? formatDuration(raw as number) : redact(raw, key)]
  }))
  return `${renderSettings(shown, sources)}\n`
}
