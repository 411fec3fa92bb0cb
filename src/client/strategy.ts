/**
 * The staging flags of `margo deploy` and `--strategy-file`: flags override the file's fields.
 * Content (counts, percentages, durations, selectors) is checked by the server, which lists
 * every problem at once; here only the shapes that cannot be sent are refused.
 */
import {readFileSync} from 'node:fs'
import {parse as parseYaml} from 'yaml'
import {UsageError} from '../util/errors.ts'
import type {SetForRequest, StrategyRequest} from '../operator-contract/strategy.ts'
import {parseSetValues} from './deploy.ts'

export interface StrategyFlags {
  waves?: string[]
  strategyFile?: string
  maxUnavailable?: string
  failureThreshold?: string
  waveTimeout?: string
  offline?: string
  pauseBetween?: string
  manual?: boolean
  onFailure?: string
}

const FIELDS = ['waves', 'maxUnavailable', 'failureThreshold', 'waveTimeout', 'offline', 'pauseBetween', 'manual', 'onFailure'] as const

/** A strategy file: YAML with the request's fields; numbers are taken as their text (`1` → "1"). */
export function parseStrategyDocument(text: string, path: string): StrategyRequest {
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (err) {
    throw new UsageError(`cannot parse strategy file ${path}: ${(err as Error).message}`, {cause: err})
  }
  if (doc == null || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`strategy file ${path} must be a YAML mapping, e.g. "waves: [1, 10%]"`)
  const raw = doc as Record<string, unknown>
  const unknown = Object.keys(raw).filter(k => !(FIELDS as readonly string[]).includes(k))
  if (unknown.length > 0) throw new UsageError(`strategy file ${path}: unknown field(s) ${unknown.join(', ')}; known: ${FIELDS.join(', ')}`)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'manual') out.manual = v === true
    else if (k === 'waves') {
      if (!Array.isArray(v)) throw new UsageError(`strategy file ${path}: waves must be a list, e.g. [1, 10%, canary=true]`)
      out.waves = v.map(String)
    } else out[k] = String(v)
  }
  return out as StrategyRequest
}

export function buildStrategy(flags: StrategyFlags): StrategyRequest | undefined {
  const file = flags.strategyFile ? readStrategyFile(flags.strategyFile) : {}
  const given: StrategyRequest = {
    ...file,
    ...(flags.waves?.length ? {waves: flags.waves} : {}),
    ...(flags.maxUnavailable !== undefined ? {maxUnavailable: flags.maxUnavailable} : {}),
    ...(flags.failureThreshold !== undefined ? {failureThreshold: flags.failureThreshold} : {}),
    ...(flags.waveTimeout !== undefined ? {waveTimeout: flags.waveTimeout} : {}),
    ...(flags.offline !== undefined ? {offline: flags.offline as StrategyRequest['offline']} : {}),
    ...(flags.pauseBetween !== undefined ? {pauseBetween: flags.pauseBetween} : {}),
    ...(flags.manual ? {manual: true} : {}),
    ...(flags.onFailure !== undefined ? {onFailure: flags.onFailure as StrategyRequest['onFailure']} : {}),
  }
  return Object.keys(given).length > 0 ? given : undefined
}

function readStrategyFile(path: string): StrategyRequest {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read strategy file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {cause: err})
  }
  return parseStrategyDocument(text, path)
}

/**
 * `--set-for SELECTOR key=value`: each value is "SELECTOR key=value" (split at the last space,
 * since selectors may hold spaces), or a selector followed by a separate key=value argument.
 */
export function parseSetFor(args: readonly string[]): SetForRequest[] {
  const out: SetForRequest[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!.trim()
    const space = a.search(/\s\S+$/)
    let selector: string
    let pair: string
    if (space > 0) {
      selector = a.slice(0, space).trim()
      pair = a.slice(space).trim()
    } else {
      const next = args[i + 1]
      if (next === undefined) throw new UsageError(`--set-for ${JSON.stringify(a)}: give a selector and key=value, e.g. --set-for site=berlin greeting=Hallo`)
      selector = a
      pair = next
      i++
    }
    out.push({selector, values: parseSetValues([pair])})
  }
  return out
}
