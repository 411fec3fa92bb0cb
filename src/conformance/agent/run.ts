import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {AgentConfig} from '../../agent/config/index.ts'
import {createSimulatedDrivers} from '../../agent/drivers/simulated.ts'
import type {Driver} from '../../agent/types.ts'
import type {ProfileType} from '../../margo/vocabulary.ts'
import {createLogger, type Logger} from '../../util/log.ts'
import {judge} from './judge.ts'
import {DEFAULT_BASE_PATH, startMockWfm, type MockMaterial} from './mock-wfm.ts'
import type {Observation, StepRecord, Verdict} from './model.ts'

export interface MockInfo {
  /** What the agent under test must be given as its server URL. */
  url: string
  /** A second listener whose certificate does not chain to the CA: the agent must refuse it. */
  untrustedUrl: string
  /** PEM file of the mock's CA, the agent's `--ca-file`. */
  caFile: string
  caFingerprint: string
  basePath: string
}

/** An agent the run starts itself, against a server URL with a CA file; it stops when the signal aborts. */
export type AgentLauncher = (input: {server: string, caFile: string, stateDir: string, signal: AbortSignal, log: Logger}) => Promise<void>

export interface AgentConformanceOptions {
  /** What the mock serves from the Margo project's conformance material. */
  material: MockMaterial
  basePath?: string
  host?: '127.0.0.1' | '::1'
  port?: number
  untrustedPort?: number
  /** Start this agent against the mock (and a second instance against the untrusted listener) instead of waiting for one. */
  agent?: AgentLauncher
  /** How often the agent under test polls; stretches the step timeout so slow pollers are not failed for being slow. */
  pollIntervalHintMs?: number
  startTimeoutMs?: number
  stepTimeoutMs?: number
  fixturePolls?: number
  /** Where the CA file is written (kept after the run); a temporary directory by default. */
  workDir?: string
  onReady?: (info: MockInfo) => void
  onStep?: (step: StepRecord, index: number, total: number) => void
  /** Where the log lines of agents started by the run go; dropped by default. */
  agentLog?: (line: string) => void
  signal?: AbortSignal
}

export interface AgentConformanceResult {
  info: MockInfo
  clientId: string | null
  steps: StepRecord[]
  verdict: Verdict
  /** Set when an agent started by the run stopped with an error of its own. */
  agentError?: string
  /** The raw record, for the JSON report and for diagnosing a failure. */
  observation: Observation
}

export const DEFAULTS = {
  startTimeoutMs: 300_000,
  stepTimeoutMs: 60_000,
  fixturePolls: 2,
} as const

/**
 * How long each step may take: the configured timeout, stretched to several poll intervals of
 * the agent under test, since a step needs at least two polls (one to see it, one to prove the
 * agent settled).
 */
export function stepTimeouts(opts: Pick<AgentConformanceOptions, 'pollIntervalHintMs' | 'startTimeoutMs' | 'stepTimeoutMs' | 'fixturePolls'>): {startTimeoutMs: number, stepTimeoutMs: number} {
  const hint = opts.pollIntervalHintMs ?? 0
  const polls = (opts.fixturePolls ?? DEFAULTS.fixturePolls) + 2
  return {
    startTimeoutMs: Math.max(opts.startTimeoutMs ?? DEFAULTS.startTimeoutMs, hint * polls),
    stepTimeoutMs: Math.max(opts.stepTimeoutMs ?? DEFAULTS.stepTimeoutMs, hint * polls),
  }
}

/**
 * `margo conformance agent`: start the mock fleet manager, hand its URL and CA to the caller
 * (or start the given agent against it), drive the timeline, and judge what the agent did.
 */
export async function runAgentConformance(opts: AgentConformanceOptions): Promise<AgentConformanceResult> {
  const mock = await startMockWfm({material: opts.material, basePath: opts.basePath ?? DEFAULT_BASE_PATH, ...(opts.host && {host: opts.host}), ...(opts.port !== undefined && {port: opts.port}), ...(opts.untrustedPort !== undefined && {untrustedPort: opts.untrustedPort})})
  const ownDir = opts.workDir === undefined
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'margo-conformance-agent-'))
  const caFile = join(workDir, 'mock-ca.pem')
  writeFileSync(caFile, mock.caPem)
  const info: MockInfo = {url: mock.url, untrustedUrl: mock.untrustedUrl, caFile, caFingerprint: mock.caFingerprint, basePath: opts.basePath ?? DEFAULT_BASE_PATH}
  opts.onReady?.(info)

  const stopAgents = new AbortController()
  const agents: Promise<string | undefined>[] = []
  if (opts.agent) {
    const write = opts.agentLog ?? (() => {})
    const launch = (name: string, server: string) => {
      const stateDir = mkdtempSync(join(workDir, `${name}-`))
      const log = createLogger({level: 'info', format: 'json', write: line => write(`${name} ${line}`)})
      return opts.agent!({server, caFile, stateDir, signal: stopAgents.signal, log}).then(() => undefined, (err: unknown) => `${name}: ${err instanceof Error ? err.message : String(err)}`)
    }
    agents.push(launch('agent', mock.url), launch('untrusted-probe', mock.untrustedUrl))
  }

  let agentError: string | undefined
  try {
    const timeouts = stepTimeouts(opts)
    await mock.runTimeline({...timeouts, fixturePolls: opts.fixturePolls ?? DEFAULTS.fixturePolls, ...(opts.signal && {signal: opts.signal}), ...(opts.onStep && {onStep: opts.onStep})})
  } finally {
    stopAgents.abort()
    agentError = (await Promise.all(agents)).filter(Boolean).join('; ') || undefined
    await mock.stop()
    // An outside agent may still hold the CA file, so it stays unless the run started the agents itself.
    if (ownDir && opts.agent) rmSync(workDir, {recursive: true, force: true})
  }
  const observation = mock.observation()
  const verdict = judge(observation)
  return {info, clientId: observation.clientId, steps: observation.steps, verdict, observation, ...(agentError && {agentError})}
}

/**
 * Our own `margo agent`, in this process: a fresh state directory, the mock's CA as its CA
 * file, a 1 s poll interval, and simulated drivers, so the run exercises onboarding,
 * signatures, the desired-state checks and status reporting without touching the host.
 */
export const ourAgent: AgentLauncher = async ({server, caFile, stateDir, signal, log}) => {
  const {runAgent} = await import('../../agent/runtime/agent.ts')
  const config: AgentConfig = {
    server, stateDir, caFile,
    configPath: join(stateDir, 'agent.yaml'),
    keyType: 'p256',
    insecureTofu: false,
    pollingIntervalRate: 1000,
    pollingIntervalPeriod: ['00:00-24:00'],
    downtimeWindows: [],
    capabilities: {},
    workloadDir: join(stateDir, 'workloads'),
    logLevel: 'info',
  }
  const drivers: Record<ProfileType, Driver> = createSimulatedDrivers()
  await runAgent({config, log, drivers, signal})
}
