import {renderSettings} from '../../util/print-config.ts'
import {KEYS} from './keys.ts'
import type {AgentConfig, ConfigKey, ConfigSource} from './types.ts'
import {isRecord} from './values.ts'

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
