import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {defaultAgentConfigPath, defaultAgentStateDir} from '../../config/paths.ts'
import type {LogLevel} from '../../util/log.ts'
import type {CapabilityOverrides} from '../capabilities/build.ts'
import {ConfigError} from './errors.ts'
import {AGENT_ENV_VARS, AGENT_FLAG_NAMES, FILE_KEYS, KEYS, unknownKeys} from './keys.ts'
import {PARSERS} from './parsers.ts'
import {DEFAULT_POLL_MS} from './polling.ts'
import type {AgentConfig, AgentKeyType, ConfigKey, ConfigSource, LoadAgentConfigOptions, LoadedAgentConfig} from './types.ts'
import {isRecord, type Origin} from './values.ts'

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
  for (const key of ['keyFile', 'certFile', 'caFile', 'caFingerprint', 'joinToken', 'timezone', 'helm', 'docker', 'otel', 'metricsListen', 'logFormat'] as const) {
    if (values[key] !== undefined) (config as unknown as Record<string, unknown>)[key] = values[key]
  }
  return {config, sources}
}
