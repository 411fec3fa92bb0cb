import type {Outcome} from '../common/report.ts'
import type {WireResponse} from '../common/exchange.ts'
import {CONFLICTS, type StepConflict} from './conflicts.ts'

/** One check on a response beyond its status; `check` returns null when it holds, else what was wrong. */
export interface Check {
  label: string
  check(res: WireResponse): string | null
  /** A body check the specification does not back (a conflict with `bodyOnly` may excuse it). */
  conflicting?: boolean
}

export interface Expectation {
  statuses: number[]
  checks: Check[]
  conflict?: StepConflict
}

export interface Verdict {
  result: Outcome
  expected: string
  got: string
  reason?: string
  conflict?: {code: string, spec: string}
}

export function describeExpected(e: Pick<Expectation, 'statuses' | 'checks'>): string {
  const statuses = e.statuses.join(' or ')
  return e.checks.length === 0 ? statuses : `${statuses}, ${e.checks.map(c => c.label).join('; ')}`
}

/**
 * Judges one answer. PASS when the status is one the suite accepts and every check holds. When
 * not, a conflict attached to the step turns the step into CONFLICT only if the answer is the one
 * the specification requires; anything else is a FAIL.
 */
export function judge(expectation: Expectation, res: WireResponse): Verdict {
  const expected = describeExpected(expectation)
  const statusOk = expectation.statuses.includes(res.status)
  const failures = statusOk
    ? expectation.checks.map(c => ({c, problem: c.check(res)})).filter((f): f is {c: Check, problem: string} => f.problem !== null)
    : []
  if (statusOk && failures.length === 0) return {result: 'PASS', expected, got: String(res.status)}

  const got = statusOk ? `${res.status}, ${failures.map(f => f.problem).join('; ')}` : String(res.status)
  const conflict = expectation.conflict
  if (conflict) {
    const specAnswer = conflict.bodyOnly
      ? statusOk && failures.every(f => f.c.conflicting)
      : (conflict.specStatuses ?? []).includes(res.status)
    if (specAnswer) {
      const entry = CONFLICTS[conflict.code]
      return {result: 'CONFLICT', expected, got, reason: entry.reason, conflict: {code: entry.code, spec: entry.spec}}
    }
  }
  const reason = statusOk
    ? failures.map(f => f.problem).join('; ')
    : `expected status ${expectation.statuses.join(' or ')}, got ${res.status}${problemSummary(res)}`
  return {result: 'FAIL', expected, got, reason}
}

/** The error text of a problem or `{error}` body, to make a FAIL line self-explanatory. */
function problemSummary(res: WireResponse): string {
  const body = res.json as {error?: unknown, detail?: unknown, title?: unknown} | undefined
  if (!body || typeof body !== 'object') return ''
  const text = [body.error, body.detail, body.title].find(v => typeof v === 'string' && v !== '')
  return typeof text === 'string' ? ` (${text.length > 160 ? `${text.slice(0, 160)}…` : text})` : ''
}
