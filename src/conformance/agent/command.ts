import {writeFileSync} from 'node:fs'
import {parseDurationMs} from '../../agent/config/polling.ts'
import {jsonDocument, outputContext} from '../../cli/output.ts'
import {UsageError} from '../../util/errors.ts'
import {requireSuites, SUITES_ENV} from '../data/suites.ts'
import {AGENT_SUITE_FILES, DEFAULT_BASE_PATH, mockMaterial} from './mock-wfm.ts'
import {agentConformanceJson, agentConformanceJunit, renderAgentConformance, renderMockInfo} from './report.ts'
import {ourAgent, runAgentConformance, type AgentConformanceOptions} from './run.ts'

export interface ConformanceAgentFlags {
  /** Checkout of the Margo project's sandbox repository (MARGO_CONFORMANCE_DIR when absent). */
  suites?: string
  'base-path'?: string
  port?: number
  'untrusted-port'?: number
  'run-ours': boolean
  'poll-interval-hint'?: string
  'start-timeout'?: string
  'step-timeout'?: string
  'fixture-polls'?: number
  'work-dir'?: string
  junit?: string
  json: boolean
  verbose: boolean
}

export interface ConformanceAgentIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  isTTY: boolean
  env: Record<string, string | undefined>
  signal?: AbortSignal
}

function duration(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const ms = parseDurationMs(value)
  if (ms === null || ms <= 0) throw new UsageError(`--${flag} ${JSON.stringify(value)} is not a duration — use seconds (30), 90s, 5m or PT5M`)
  return ms
}

/** Flags to run options; a bad value is a usage error naming the flag. */
export function conformanceAgentOptions(flags: ConformanceAgentFlags): Omit<AgentConformanceOptions, 'material'> {
  const basePath = flags['base-path'] ?? DEFAULT_BASE_PATH
  if (basePath !== '' && !/^\/[A-Za-z0-9._~\-/]*$/.test(basePath)) throw new UsageError(`--base-path ${JSON.stringify(basePath)} must start with / and contain only letters, digits and . _ ~ - /`)
  if (flags['fixture-polls'] !== undefined && (flags['fixture-polls'] < 1 || flags['fixture-polls'] > 20)) throw new UsageError('--fixture-polls must be between 1 and 20')
  const hint = duration('poll-interval-hint', flags['poll-interval-hint'])
  const start = duration('start-timeout', flags['start-timeout'])
  const step = duration('step-timeout', flags['step-timeout'])
  return {
    basePath: basePath.replace(/\/+$/, ''),
    ...(flags.port !== undefined && {port: flags.port}),
    ...(flags['untrusted-port'] !== undefined && {untrustedPort: flags['untrusted-port']}),
    ...(flags['fixture-polls'] !== undefined && {fixturePolls: flags['fixture-polls']}),
    ...(flags['work-dir'] !== undefined && {workDir: flags['work-dir']}),
    // Our agent polls every second, so its steps take a second or two; a minute is a generous bound.
    ...(flags['run-ours'] ? {agent: ourAgent, pollIntervalHintMs: 1000, startTimeoutMs: start ?? 60_000, stepTimeoutMs: step ?? 30_000} : {}),
    ...(hint !== undefined && {pollIntervalHintMs: hint}),
    ...(!flags['run-ours'] && start !== undefined && {startTimeoutMs: start}),
    ...(!flags['run-ours'] && step !== undefined && {stepTimeoutMs: step}),
  }
}

/**
 * `margo conformance agent`: run the mock, tell the user what to give their agent (or start
 * ours), show progress on stderr, then print the verdict (and write JUnit). Returns the exit
 * code: 0 when every check passed, 1 otherwise.
 */
export async function conformanceAgentCommand(flags: ConformanceAgentFlags, io: ConformanceAgentIo): Promise<number> {
  const options = conformanceAgentOptions(flags)
  const suites = requireSuites(flags.suites ?? io.env[SUITES_ENV], 'margo conformance agent', AGENT_SUITE_FILES)
  const ctx = outputContext({isTTY: io.isTTY, env: io.env})
  // With --json, stdout carries only the verdict; everything for people goes to stderr.
  const say = flags.json ? io.stderr : io.stdout
  const result = await runAgentConformance({
    ...options,
    material: mockMaterial(suites),
    ...(io.signal && {signal: io.signal}),
    ...(flags.verbose && {agentLog: (line: string) => io.stderr(`${line}\n`)}),
    onReady: info => {
      say(`${renderMockInfo(info, ctx)}\n`)
      if (!flags['run-ours']) {
        say(`start the agent under test with the server URL and CA file above, e.g.\n  <agent> --server ${info.url} --ca-file ${info.caFile}\n` +
          `and, to check that it refuses an untrusted certificate, a second instance (with a fresh state) against ${info.untrustedUrl}\n` +
          `waiting up to ${Math.round((options.startTimeoutMs ?? 300_000) / 1000)}s for it to onboard…\n`)
      }
    },
    onStep: (step, index, total) => io.stderr(`[${index + 1}/${total}] ${step.title}: ${step.reached ? 'done' : `timed out waiting for ${step.waitingFor ?? 'the agent'}`}\n`),
  })
  if (flags.junit) writeFileSync(flags.junit, agentConformanceJunit(result))
  if (flags.json) io.stdout(jsonDocument(agentConformanceJson(result)))
  else io.stdout(`${renderAgentConformance(result, ctx)}\n`)
  return result.verdict.passed ? 0 : 1
}
