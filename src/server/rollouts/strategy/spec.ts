/**
 * The strategy grammar: the operator's strings (src/operator-contract/strategy.ts) into a
 * checked Strategy, or every problem found, each with the field it is about.
 */
import {parseDuration} from '../../../util/duration.ts'
import {describeSelectorError, formatSelector, parseSelector} from '../../../operator-contract/selector.ts'
import type {Amount, Strategy, StrategyRequest, WaveSpec} from '../../../operator-contract/strategy.ts'

export type {Amount, Strategy, WaveSpec}

export interface SpecProblem {
  path: string
  message: string
}

export const DEFAULT_WAVE_TIMEOUT_MS = 30 * 60_000

export function parseAmount(text: string): Amount | null {
  const s = text.trim()
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s)
  if (pct) {
    const percent = Number(pct[1])
    return percent <= 100 ? {percent} : null
  }
  return /^\d+$/.test(s) ? {count: Number(s)} : null
}

/** An amount of `size` devices: a percentage rounds up, so 10% of 5 is one device. */
export function amountOf(a: Amount, size: number): number {
  return 'count' in a ? a.count : Math.ceil((a.percent / 100) * size - 1e-9)
}

export function formatAmount(a: Amount): string {
  return 'count' in a ? String(a.count) : `${a.percent}%`
}

export function parseWave(text: string): WaveSpec | {error: string} {
  const s = text.trim()
  if (/^\d+$/.test(s)) {
    const count = Number(s)
    return count >= 1 ? {kind: 'count', count} : {error: 'a wave of 0 devices is empty; use 1 or more'}
  }
  if (/^\d+(\.\d+)?%$/.test(s)) {
    const percent = Number(s.slice(0, -1))
    return percent > 0 && percent <= 100 ? {kind: 'percent', percent} : {error: 'a percentage must be more than 0% and at most 100%'}
  }
  if (s === '') return {error: 'empty; a wave is a count (1), a percentage (10%) or a label selector (canary=true)'}
  const sel = parseSelector(s)
  if (!sel.ok) return {error: `neither a count, a percentage nor a label selector: ${describeSelectorError(sel.error)}`}
  return {kind: 'selector', selector: formatSelector(sel.selector)}
}

export function formatWave(w: WaveSpec): string {
  return w.kind === 'count' ? String(w.count) : w.kind === 'percent' ? `${w.percent}%` : w.selector
}

function duration(text: string | undefined, path: string, problems: SpecProblem[]): number | undefined {
  if (text === undefined) return undefined
  try {
    return parseDuration(text)
  } catch (err) {
    problems.push({path, message: (err as Error).message})
    return undefined
  }
}

/** A request's strategy, checked; null when the request stages nothing (every device at once). */
export function parseStrategy(req: StrategyRequest | undefined): {ok: true, strategy: Strategy | null} | {ok: false, problems: SpecProblem[]} {
  if (!req) return {ok: true, strategy: null}
  const problems: SpecProblem[] = []
  const waves: WaveSpec[] = []
  for (const [i, text] of (req.waves ?? []).entries()) {
    const w = typeof text === 'string' ? parseWave(text) : {error: 'must be a string'}
    if ('error' in w) problems.push({path: `strategy.waves[${i}]`, message: `${JSON.stringify(text)}: ${w.error}`})
    else waves.push(w)
  }
  const amount = (text: string | undefined, path: string, fallback: Amount | null) => {
    if (text === undefined) return fallback
    const a = typeof text === 'string' ? parseAmount(text) : null
    if (!a) problems.push({path, message: `${JSON.stringify(text)} is not a count (2) or a percentage up to 100% (10%)`})
    return a
  }
  const maxUnavailable = amount(req.maxUnavailable, 'strategy.maxUnavailable', null)
  if (maxUnavailable && amountOf(maxUnavailable, 100) === 0) problems.push({path: 'strategy.maxUnavailable', message: 'must allow at least one device at a time'})
  const failureThreshold = amount(req.failureThreshold, 'strategy.failureThreshold', {count: 0}) ?? {count: 0}
  const waveTimeoutMs = duration(req.waveTimeout, 'strategy.waveTimeout', problems) ?? DEFAULT_WAVE_TIMEOUT_MS
  if (req.waveTimeout !== undefined && waveTimeoutMs <= 0) problems.push({path: 'strategy.waveTimeout', message: 'must be longer than 0s'})
  const pauseBetweenMs = duration(req.pauseBetween, 'strategy.pauseBetween', problems) ?? 0
  const offline = req.offline ?? 'wait'
  if (!['skip', 'wait', 'fail'].includes(offline)) problems.push({path: 'strategy.offline', message: `${JSON.stringify(offline)}: use skip, wait or fail`})
  const onFailure = req.onFailure ?? 'pause'
  if (!['pause', 'rollback'].includes(onFailure)) problems.push({path: 'strategy.onFailure', message: `${JSON.stringify(onFailure)}: use pause or rollback`})
  const manual = req.manual === true
  if (manual && pauseBetweenMs > 0) problems.push({path: 'strategy.manual', message: 'give either a pause between waves or manual, not both'})
  if (problems.length > 0) return {ok: false, problems}
  return {ok: true, strategy: {waves, maxUnavailable, failureThreshold, waveTimeoutMs, offline, pauseBetweenMs, manual, onFailure}}
}
