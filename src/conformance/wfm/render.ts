import {paint, table, type Cell, type OutputContext} from '../../cli/output.ts'
import {describeExchange, summaryLine, type Outcome} from '../common/report.ts'
import type {WfmConformanceReport} from './run.ts'

const STYLE: Record<Outcome, 'green' | 'red' | 'yellow' | 'dim'> = {PASS: 'green', FAIL: 'red', CONFLICT: 'yellow', SKIPPED: 'dim'}

function clip(text: string, max: number, ctx: OutputContext): string {
  return ctx.tty && text.length > max ? `${text.slice(0, max - 1)}…` : text
}

/**
 * The report for people: the step table, the exchange of every failed step, the set-up the run
 * did and how it was undone, and one summary line per suite. Piped, the table is tab-separated without a header.
 */
export function renderWfmReport(report: WfmConformanceReport, ctx: OutputContext): string {
  const out: string[] = []
  if (!report.tls.verify) out.push(paint('warning: TLS certificate verification was OFF for this run (--insecure): the answers could come from anyone', 'yellow', ctx))
  const rows: Cell[][] = []
  for (const suite of report.suites) {
    for (const s of suite.steps) {
      const got = s.result === 'CONFLICT' || s.result === 'SKIPPED' ? `${s.got}${s.reason ? ` — ${s.conflict ? `${s.conflict.code}: ` : ''}${s.reason}` : ''}` : s.got
      rows.push([s.suite, s.id, clip(s.name, 60, ctx), {text: s.result, style: STYLE[s.result]}, clip(s.expected, 50, ctx), clip(got, ctx.tty ? 110 : 10_000, ctx)])
    }
  }
  if (rows.length) out.push(table(['suite', 'id', 'name', 'result', 'expected', 'got'], rows, ctx))

  const failures = report.suites.flatMap(s => s.steps.filter(step => step.result === 'FAIL'))
  for (const f of failures) {
    out.push([
      paint(`FAIL ${f.suite} ${f.id}: ${f.name}`, 'red', ctx),
      `  expected ${f.expected}, got ${f.got}${f.reason ? `\n  ${f.reason}` : ''}`,
      describeExchange(f.request, f.response).split('\n').filter(Boolean).map(l => `  ${l}`).join('\n'),
    ].filter(Boolean).join('\n'))
  }
  for (const p of report.preconditions) out.push(`${p.met ? 'set-up' : paint('set-up unmet', 'yellow', ctx)} ${p.id}: ${p.detail}`)
  for (const i of report.cleanup?.items ?? []) {
    const what = `${i.outcome === 'failed' ? 'could not undo' : i.outcome} ${i.kind} ${i.id}${i.detail ? `: ${i.detail}` : ''}`
    out.push(i.outcome === 'failed' ? paint(`undo ${what}`, 'red', ctx) : `undo ${what}`)
  }
  for (const suite of report.suites) {
    const line = summaryLine(suite)
    out.push(paint(line, suite.summary.failed > 0 ? 'red' : suite.skippedReason ? 'dim' : 'green', ctx))
  }
  return out.join(ctx.tty ? '\n\n' : '\n')
}
