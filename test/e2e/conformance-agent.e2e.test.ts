import {describe, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {AGENT_SUITE_FILES} from '../../src/conformance/agent/mock-wfm.ts'
import {conformanceSuites} from '../shared.ts'
import {BIN, ensureBinary} from './binary.ts'

interface Report {
  passed: boolean
  summary: {pass: number, fail: number, skip: number}
  checks: {id: string, status: string, detail: string}[]
  mock: {url: string, caFile: string, caFingerprint: string, untrustedUrl: string}
  steps: {id: string, reached: boolean}[]
}

const ALL_CHECKS = [
  'onboarding-body', 'signatures', 'capabilities-body', 'if-none-match', 'status-body', 'status-components',
  'lifecycle-a', 'lifecycle-b', 'lifecycle-c',
  'fixture-unsupported-digest', 'fixture-bundle-mismatch', 'fixture-deployment-mismatch', 'fixture-wrong-size', 'fixture-rollback',
  'untrusted-listener',
]

const notPassed = (r: Report) => r.checks.filter(c => c.status !== 'PASS')

const suites = conformanceSuites('test/e2e/conformance-agent.e2e.test.ts', AGENT_SUITE_FILES)
const env = {...process.env, NO_COLOR: '1', ...(suites ? {MARGO_CONFORMANCE_DIR: suites.root} : {})}

describe.skipIf(!suites)('margo conformance agent (compiled binary)', () => {
  test('--run-ours --json: our agent passes every check; --junit writes the same verdict', async () => {
    ensureBinary()
    const dir = mkdtempSync(join(tmpdir(), 'margo-conformance-agent-e2e-'))
    const junit = join(dir, 'agent.xml')
    const proc = Bun.spawn([BIN, 'conformance', 'agent', '--run-ours', '--json', '--junit', junit], {stdout: 'pipe', stderr: 'pipe', env})
    const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()])
    const report = JSON.parse(stdout) as Report
    expect(notPassed(report)).toEqual([])
    expect([code, report.passed]).toEqual([0, true])
    expect(report.checks.map(c => c.id)).toEqual(ALL_CHECKS)
    expect(report.steps.every(s => s.reached)).toBe(true)
    // Progress and the mock's coordinates go to stderr, so stdout stays one JSON document.
    expect(stderr).toContain(report.mock.url)
    const xml = readFileSync(junit, 'utf8')
    expect(xml).toContain(`tests="${ALL_CHECKS.length}" failures="0"`)
    expect(xml.match(/<testcase /g)?.length).toBe(ALL_CHECKS.length)
  }, 120_000)

  test('waiting mode: a compiled `margo agent --simulate-drivers` pointed at the printed URL and CA passes, and a second one refuses the untrusted listener', async () => {
    ensureBinary()
    const dir = mkdtempSync(join(tmpdir(), 'margo-conformance-agent-e2e-'))
    const conformance = Bun.spawn([BIN, 'conformance', 'agent', '--json', '--poll-interval-hint', '1s', '--start-timeout', '60s', '--step-timeout', '30s', '--work-dir', dir], {stdout: 'pipe', stderr: 'pipe', env})
    const stdout = new Response(conformance.stdout).text()
    // Piped, the coordinates come as `key<TAB>value` lines on stderr.
    let err = ''
    const reader = conformance.stderr.getReader()
    const deadline = Date.now() + 20_000
    while (!/untrustedUrl\t\S+/.test(err)) {
      if (Date.now() > deadline) throw new Error(`the mock never printed its URL:\n${err}`)
      const {value, done} = await reader.read()
      if (done) throw new Error(`margo conformance agent exited early:\n${err}`)
      err += new TextDecoder().decode(value)
    }
    void (async () => { for (;;) { const {value, done} = await reader.read(); if (done) break; err += new TextDecoder().decode(value) } })()
    const field = (key: string) => new RegExp(`^${key}\\t(\\S+)$`, 'm').exec(err)![1]!
    expect(field('caFile')).toBe(join(dir, 'mock-ca.pem'))
    const agent = (name: string, server: string) => {
      const config = join(dir, `${name}.yaml`)
      writeFileSync(config, '{}\n')
      return Bun.spawn([BIN, 'agent', '--config', config, '--server', server, '--ca-file', field('caFile'), '--state-dir', join(dir, name),
        '--poll-interval', '1s', '--simulate-drivers', '--log-format', 'json'], {stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', env: {...process.env, PATH: '/nonexistent'}})
    }
    // No helm or docker on PATH: only simulated drivers can get the deployments installed.
    const main = agent('agent', field('url'))
    const probe = agent('probe', field('untrustedUrl'))
    try {
      const code = await conformance.exited
      const report = JSON.parse(await stdout) as Report
      expect(notPassed(report)).toEqual([])
      expect(code).toBe(0)
    } finally {
      main.kill('SIGTERM')
      probe.kill('SIGTERM')
      await Promise.all([main.exited, probe.exited])
    }
    expect(await new Response(main.stderr).text()).toContain('agent.simulated_drivers')
  }, 120_000)
})
