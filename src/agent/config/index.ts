/**
 * The agent's configuration: each setting from a flag, an environment variable, the YAML
 * file or its default, checked where it is read, and printed back with its source.
 */
export {parseCaFingerprint} from './ca-fingerprint.ts'
export {ConfigError, type ConfigErrorCode} from './errors.ts'
export {AGENT_ENV_VARS, AGENT_FLAG_NAMES, suggestKey} from './keys.ts'
export {loadAgentConfig} from './load.ts'
export {parseDurationMs} from './polling.ts'
export {redact, renderConfig} from './print.ts'
export type {
  AgentConfig, AgentConfigInput, AgentKeyType, ConfigKey, ConfigSource, LoadAgentConfigOptions, LoadedAgentConfig, OtelConfig,
} from './types.ts'
