/**
 * Results of conformance runs, shared by the WFM and the device-agent runners: one record per
 * step, a summary per suite, and the JUnit rendering. Pure.
 */

export type Outcome = 'PASS' | 'FAIL' | 'CONFLICT' | 'SKIPPED'

/** What was sent, as recorded for a report (bodies truncated, nothing secret: signatures are public). */
export interface RecordedRequest {
  method: string
  url: string
  headers: Record<string, string>
  body?: string
}

export interface RecordedResponse {
  status: number
  headers: Record<string, string>
  body: string
}

export interface StepResult {
  suite: string
  id: string
  name: string
  result: Outcome
  /** What the suite expects, e.g. `401` or `201, status = capabilities_received`. */
  expected: string
  /** What happened, e.g. `400` or `201, status missing`. */
  got: string
  /** Why the step failed, conflicts or was skipped. */
  reason?: string
  /** For a CONFLICT: the catalogue entry and the specification section that decides it. */
  conflict?: {code: string, spec: string}
  /** Requirement ids the suite attaches to the step. */
  crIds?: string[]
  /** The suite's own id of the case (e.g. a Postman response example id). */
  caseId?: string
  /** Kept for FAIL (and CONFLICT), so a report shows what went over the wire. */
  request?: RecordedRequest
  response?: RecordedResponse
}

export interface SuiteSummary {
  total: number
  passed: number
  failed: number
  conflicts: number
  skipped: number
}

export interface SuiteReport {
  suite: string
  /** Set when the whole suite did not run (e.g. a tool is missing); its steps are then empty. */
  skippedReason?: string
  steps: StepResult[]
  summary: SuiteSummary
}

export function summarise(steps: readonly StepResult[]): SuiteSummary {
  const count = (o: Outcome) => steps.filter(s => s.result === o).length
  return {total: steps.length, passed: count('PASS'), failed: count('FAIL'), conflicts: count('CONFLICT'), skipped: count('SKIPPED')}
}

export function suiteReport(suite: string, steps: StepResult[], skippedReason?: string): SuiteReport {
  return {suite, steps, summary: summarise(steps), ...(skippedReason ? {skippedReason} : {})}
}

/** `wfm-core 26/31 passed, 5 conflicts, 0 failed` (plus skipped steps when there are any). */
export function summaryLine(report: SuiteReport): string {
  if (report.skippedReason) return `${report.suite} skipped: ${report.skippedReason}`
  const s = report.summary
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
  const parts = [`${report.suite} ${s.passed}/${s.total} passed`, plural(s.conflicts, 'conflict'), `${s.failed} failed`]
  if (s.skipped > 0) parts.push(`${s.skipped} skipped`)
  return parts.join(', ')
}

/** Exit status of a run: any FAIL fails it; a CONFLICT only under `strict`. */
export function runFailed(reports: readonly SuiteReport[], strict: boolean): boolean {
  return reports.some(r => r.summary.failed > 0 || (strict && r.summary.conflicts > 0))
}

// ---------------------------------------------------------------- JUnit XML

function xml(text: string): string {
  // XML 1.0 cannot carry most control characters at all, even escaped.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML cannot carry are what this replaces
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '?')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

export function describeExchange(request: RecordedRequest | undefined, response: RecordedResponse | undefined): string {
  const lines: string[] = []
  if (request) {
    lines.push(`> ${request.method} ${request.url}`)
    for (const [k, v] of Object.entries(request.headers)) lines.push(`> ${k}: ${v}`)
    if (request.body) lines.push('>', ...request.body.split('\n').map(l => `> ${l}`))
  }
  if (response) {
    lines.push(`< ${response.status}`)
    for (const [k, v] of Object.entries(response.headers)) lines.push(`< ${k}: ${v}`)
    if (response.body) lines.push('<', ...response.body.split('\n').map(l => `< ${l}`))
  }
  return lines.join('\n')
}

/**
 * JUnit XML, one `<testsuite>` per suite. A CONFLICT is reported as skipped with its reason, so
 * CI dashboards show it without counting it as a failure; a suite that did not run at all is one
 * skipped test case.
 */
export function junitXml(reports: readonly SuiteReport[], name = 'margo conformance'): string {
  const totals = reports.reduce((t, r) => ({
    tests: t.tests + Math.max(r.summary.total, r.skippedReason ? 1 : 0),
    failures: t.failures + r.summary.failed,
    skipped: t.skipped + r.summary.skipped + r.summary.conflicts + (r.skippedReason ? 1 : 0),
  }), {tests: 0, failures: 0, skipped: 0})
  const out = ['<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(name)}" tests="${totals.tests}" failures="${totals.failures}" skipped="${totals.skipped}">`]
  for (const r of reports) {
    const tests = Math.max(r.summary.total, r.skippedReason ? 1 : 0)
    const skipped = r.summary.skipped + r.summary.conflicts + (r.skippedReason ? 1 : 0)
    out.push(`  <testsuite name="${xml(r.suite)}" tests="${tests}" failures="${r.summary.failed}" skipped="${skipped}">`)
    if (r.skippedReason) {
      out.push(`    <testcase classname="${xml(r.suite)}" name="${xml(r.suite)}"><skipped message="${xml(r.skippedReason)}"/></testcase>`)
    }
    for (const s of r.steps) {
      const open = `    <testcase classname="${xml(r.suite)}" name="${xml(`${s.id} ${s.name}`)}">`
      if (s.result === 'PASS') {
        out.push(`${open}</testcase>`)
      } else if (s.result === 'FAIL') {
        const message = `expected ${s.expected}, got ${s.got}${s.reason ? ` — ${s.reason}` : ''}`
        out.push(`${open}<failure message="${xml(message)}">${xml(describeExchange(s.request, s.response))}</failure></testcase>`)
      } else {
        const message = s.result === 'CONFLICT'
          ? `CONFLICT ${s.conflict?.code ?? ''}: ${s.reason ?? ''} (${s.conflict?.spec ?? 'specification'})`
          : `SKIPPED: ${s.reason ?? ''}`
        out.push(`${open}<skipped message="${xml(message)}"/></testcase>`)
      }
    }
    out.push('  </testsuite>')
  }
  out.push('</testsuites>', '')
  return out.join('\n')
}
