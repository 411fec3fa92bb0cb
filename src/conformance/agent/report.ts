import {blocks, fields, paint, table, type Cell, type OutputContext} from '../../cli/output.ts'
import type {CheckStatus} from './model.ts'
import type {AgentConformanceResult, MockInfo} from './run.ts'

/** The `--json` document: stable camelCase fields, the verdict first. */
export function agentConformanceJson(result: AgentConformanceResult): unknown {
  return {
    passed: result.verdict.passed,
    summary: result.verdict.summary,
    checks: result.verdict.checks,
    mock: result.info,
    clientId: result.clientId,
    steps: result.steps.map(s => ({
      id: s.id, title: s.title, kind: s.kind, fixture: s.fixture ?? null, expect: s.expect,
      manifestVersion: s.manifest?.manifestVersion ?? null, reached: s.reached, waitingFor: s.waitingFor ?? null,
      startedAt: new Date(s.startedAt).toISOString(), durationMs: s.endedAt === null ? null : s.endedAt - s.startedAt,
    })),
    requests: result.observation.requests.length,
    ...(result.agentError && {agentError: result.agentError}),
  }
}

const STYLE: Record<CheckStatus, 'green' | 'red' | 'yellow'> = {PASS: 'green', FAIL: 'red', SKIP: 'yellow'}

export function summaryLine(result: AgentConformanceResult): string {
  const {pass, fail, skip} = result.verdict.summary
  const total = pass + fail + skip
  return `${result.verdict.passed ? 'PASSED' : 'FAILED'}: ${pass}/${total} checks passed, ${fail} failed, ${skip} skipped`
}

/**
 * The checks and a summary line. On a terminal: status, id and title, with the detail on the
 * next line; piped: one tab-separated `status, id, title: detail` line per check.
 */
export function renderAgentConformance(result: AgentConformanceResult, ctx: OutputContext): string {
  const checks = ctx.tty
    ? result.verdict.checks.map(c => `${paint(c.status.padEnd(4), STYLE[c.status], ctx)}  ${c.id.padEnd(28)}  ${c.title}
${' '.repeat(36)}${paint(c.detail, 'dim', ctx)}`).join('\n')
    : table(['status', 'check', 'detail'], result.verdict.checks.map((c): Cell[] => [c.status, c.id, `${c.title}: ${c.detail}`]), ctx)
  return blocks([checks, ...(result.agentError ? [`agent error: ${result.agentError}`] : []), summaryLine(result)], ctx)
}

/** What the person running the command needs to point their agent at the mock. */
export function renderMockInfo(info: MockInfo, ctx: OutputContext): string {
  return fields([
    {label: 'server URL', key: 'url', value: info.url},
    {label: 'CA file', key: 'caFile', value: info.caFile},
    {label: 'CA fingerprint', key: 'caFingerprint', value: info.caFingerprint},
    {label: 'untrusted listener', key: 'untrustedUrl', value: info.untrustedUrl},
  ], ctx)
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** JUnit XML: one test case per check, failures with their detail, skipped checks as skipped. */
export function agentConformanceJunit(result: AgentConformanceResult, suiteName = 'margo conformance agent'): string {
  const {fail, skip} = result.verdict.summary
  const cases = result.verdict.checks.map(c => {
    const open = `    <testcase classname="conformance.agent" name="${xml(`${c.id}: ${c.title}`)}">`
    if (c.status === 'FAIL') return `${open}\n      <failure message="${xml(c.detail)}">${xml(c.detail)}</failure>\n    </testcase>`
    if (c.status === 'SKIP') return `${open}\n      <skipped message="${xml(c.detail)}"/>\n    </testcase>`
    return `${open}\n      <system-out>${xml(c.detail)}</system-out>\n    </testcase>`
  })
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(suiteName)}" tests="${result.verdict.checks.length}" failures="${fail}" skipped="${skip}">`,
    `  <testsuite name="${xml(suiteName)}" tests="${result.verdict.checks.length}" failures="${fail}" skipped="${skip}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}
