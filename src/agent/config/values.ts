/** Checks of one setting's value from one source; failures name the key, the source and what is accepted. */
import {isAbsolute, resolve} from 'node:path'
import {matchEnum} from '../../margo/check.ts'
import {ConfigError} from './errors.ts'
import {unknownKeys} from './keys.ts'
import type {ConfigSource} from './types.ts'

export interface Origin {
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

export function invalid(o: Origin, value: unknown, accepted: string, reason?: string): ConfigError {
  const why = reason ? `: ${reason}` : ''
  return new ConfigError(
    `invalid ${o.key} ${show(value)} from ${describeOrigin(o)}${why} — expected ${accepted}`,
    {code: 'invalid_value', key: o.key, source: o.source, origin: o.where, accepted},
  )
}

export function text(o: Origin, value: unknown, accepted = 'a non-empty string'): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(o, value, accepted)
  return value.trim()
}

export function path(o: Origin, value: unknown): string {
  const p = text(o, value, 'a file system path')
  return isAbsolute(p) ? p : resolve(o.baseDir, p)
}

export function oneOf<T extends string>(o: Origin, value: unknown, members: readonly T[]): T {
  const found = matchEnum(value, members)
  if (!found) throw invalid(o, value, `one of ${members.join(', ')}`)
  return found
}

export function bool(o: Origin, value: unknown): boolean {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase()
    if (['1', 'true', 'yes', 'on'].includes(v)) return true
    if (['0', 'false', 'no', 'off'].includes(v)) return false
  }
  throw invalid(o, value, 'true or false')
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function at(o: Origin, key: string | number): Origin {
  return {...o, key: typeof key === 'number' ? `${o.key}[${key}]` : `${o.key}.${key}`}
}

export function mapping(o: Origin, value: unknown, known: readonly string[]): Record<string, unknown> {
  if (!isRecord(value)) throw invalid(o, value, `a mapping with keys ${known.join(', ')}`)
  const unknown = Object.keys(value).filter(k => !known.includes(k))
  if (unknown.length > 0) throw unknownKeys(o.source, o.where, unknown.map(k => `${o.key}.${k}`), known.map(k => `${o.key}.${k}`))
  return value
}
