import {join} from 'node:path'
import type {ProfileType} from '../../margo/vocabulary.ts'
import type {Logger} from '../../util/log.ts'
import type {AgentConfig} from '../config/index.ts'
import {DeviceClient, TransportError, parseOnboardingResponse} from '../device-client.ts'
import {clientIdFor, ensureIdentity, loadClientId, saveClientId, type Identity} from '../identity.ts'
import {backoffDelay, parseRetryAfter} from '../schedule/backoff.ts'
import {mayPoll, nextWake, type PlannerConfig} from '../schedule/planner.ts'
import {downtimeEnd, inDowntime, parseWindows} from '../schedule/windows.ts'
import {Outbox} from '../state/outbox.ts'
import {StateDir, type StateStore} from '../state/state-dir.ts'
import {WorkloadStore} from '../state/workloads.ts'
import {TrustError, resolveTrust} from '../trust.ts'
import type {Driver} from '../types.ts'
import {reportCapabilities} from './capabilities-reporter.ts'
import type {AgentContext, AgentMetrics} from './context.ts'
import {downloader} from './download.ts'
import {loadJoinRecord, needsJoin, presentJoinToken, saveJoinRecord, tokenSha256} from '../join.ts'
import {CycleFailedError, WfmResponseError, cycleFailure, problemOf} from './errors.ts'
import {Reconciler} from './reconciler.ts'
import {flushOutbox} from './status-sender.ts'
import {syncOnce} from './sync-cycle.ts'
import {startMetricsExporter} from '../telemetry/exporter.ts'
import pjson from '../../../package.json' with {type: 'json'}
import {lastSuccessOf, nextSyncRecord, SYNC_FILE, type SyncRecord} from '../status-view.ts'

/** How often the host is checked for capability changes (a cheap local check; PUT only on change). */
const CAPABILITIES_CHECK_MS = 10 * 60 * 1000
/** Onboarding while enrollment is pending or refused is retried at most this far apart. */
const ONBOARDING_RETRY_CAP_MS = 15 * 60 * 1000
/** setTimeout overflows past ~24.8 days; long waits are slept in pieces. */
const MAX_SLEEP_MS = 60 * 60 * 1000

export interface RunAgentOptions {
  config: AgentConfig
  log: Logger
  drivers: Record<ProfileType, Driver>
  signal: AbortSignal
  /**
   * Run one cycle (onboard, report, poll, reconcile, flush) and return: for scripts and tests.
   * A cycle that did not complete, or left a deployment failed, ends with a CycleFailedError.
   */
  once?: boolean
  /** Counts for the agent's Prometheus endpoint, when one is configured. */
  metrics?: AgentMetrics
  now?: () => Date
  rng?: () => number
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve()
  return new Promise(resolve => {
    const timer = setTimeout(done, Math.min(ms, MAX_SLEEP_MS))
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, {once: true})
  })
}

async function sleepUntil(at: Date, now: () => Date, signal: AbortSignal) {
  while (!signal.aborted && at.getTime() > now().getTime()) await sleep(at.getTime() - now().getTime(), signal)
}

const isCommunicationFailure = (err: unknown): err is TransportError | WfmResponseError | TrustError =>
  err instanceof TransportError || err instanceof WfmResponseError || (err instanceof TrustError && err.retryable)

/**
 * The device agent: a loop of pure decisions (schedule, manifest checks, reconcile plan) around
 * thin effects (HTTP, drivers, state files). It keeps running the last adopted desired state
 * while the WFM is unreachable, indefinitely; inside a downtime window it sends nothing and
 * retries nothing; SIGTERM stops it between steps.
 */
export async function runAgent(opts: RunAgentOptions): Promise<void> {
  const {config, log, signal} = opts
  const now = opts.now ?? (() => new Date())
  const rng = opts.rng ?? Math.random
  const windows = parseWindows({timezone: config.timezone, pollingPeriods: config.pollingIntervalPeriod, downtime: config.downtimeWindows})
  // Not spread: that would look up the time zone the windows may leave unresolved.
  const planner: PlannerConfig = Object.assign(windows, {pollIntervalMs: config.pollingIntervalRate})
  const quiet = () => inDowntime(now(), windows)

  const identity = await ensureIdentity(config.stateDir, {keyType: config.keyType, keyFile: config.keyFile, certFile: config.certFile})
  for (const warning of identity.warnings) log.warn('identity.warning', {warning})
  if (identity.created) log.info('identity.created', {fingerprint: identity.fingerprint, keyType: identity.keyType})

  const state = new StateDir(config.stateDir)
  const workloads = new WorkloadStore(state)
  const outbox = new Outbox(state)
  let client: DeviceClient | undefined
  const ctx: AgentContext = {
    get client() {
      if (!client) throw new Error('the device client is not ready yet')
      return client
    },
    state, workloads, outbox, drivers: opts.drivers, log, now, rng, quiet, metrics: opts.metrics,
    driverContext: (deploymentId: string) => ({
      workDir: join(config.workloadDir, deploymentId),
      binaries: {helm: config.helm, docker: config.docker},
      otel: config.otel,
      download: downloader(),
      log,
    }),
  }
  const reconciler = new Reconciler(ctx)
  if (opts.metrics) {
    opts.metrics.outboxDepth(() => outbox.size)
    const before = lastSuccessOf(state.readJson<SyncRecord>(SYNC_FILE))
    if (before) opts.metrics.succeededBefore(new Date(before))
  }

  // Waits out downtime and back-off between attempts of a step that must eventually succeed.
  const persist = async <T>(what: string, attempt: () => Promise<T | undefined>, capMs: number): Promise<T | undefined> => {
    for (let failures = 0; !signal.aborted;) {
      if (quiet()) {
        await sleepUntil(downtimeEnd(now(), windows) ?? new Date(now().getTime() + MAX_SLEEP_MS), now, signal)
        continue
      }
      let retryAfterMs: number | null = null
      try {
        const result = await attempt()
        if (result !== undefined) return result
      } catch (err) {
        if (!isCommunicationFailure(err)) throw err
        if (opts.once) throw cycleFailure(what, err)
        if (!quiet()) log.warn(`${what}.retrying`, {reason: err.message, failures: failures + 1})
        retryAfterMs = err instanceof WfmResponseError ? parseRetryAfter(err.retryAfter, now()) : null
      }
      if (opts.once) throw new CycleFailedError(`${what} did not complete`, 1)
      failures++
      await sleep(backoffDelay(failures, {capMs, retryAfterMs, rng}), signal)
    }
    return undefined
  }

  // The agent's own resource usage goes to the device's collector (CL-35) when one is configured.
  const stopMetrics = config.otel && !opts.once
    ? startMetricsExporter({endpoint: config.otel.httpEndpoint, version: pjson.version, clientId: () => client?.clientId, log})
    : () => {}
  signal.addEventListener('abort', stopMetrics, {once: true})

  // What a crash interrupted is finished first, from local state only: no network needed.
  await reconciler.run(signal)

  const trust = await persist('trust', () => resolveTrust(config.stateDir, {server: config.server, caFile: config.caFile, caFingerprint: config.caFingerprint, insecureTofu: config.insecureTofu, log}), ONBOARDING_RETRY_CAP_MS)
  if (!trust) return
  client = new DeviceClient({server: config.server, caPem: trust.caPem, privateKey: identity.privateKey, alg: identity.alg})

  const onboarded = clientIdFor(loadClientId(config.stateDir), {server: config.server, fingerprint: identity.fingerprint})
  const joinToken = config.joinToken
  if (joinToken && !onboarded) {
    const caPem = trust.caPem
    // Never logged, never stored: only its hash is kept, to present it once.
    const joined = await persist('join', () => presentJoin(config, caPem, joinToken, identity, state, log, now), ONBOARDING_RETRY_CAP_MS)
    if (!joined) return
  }

  const clientId = await persist('onboarding', () => onboard(client!, identity, config, log, now), ONBOARDING_RETRY_CAP_MS)
  if (!clientId) return
  client.clientId = clientId
  log.info('agent.ready', {clientId, server: config.server, stateDir: config.stateDir})

  let lastPollAt: Date | null = null
  let nextPollAt = 0
  let failures = 0
  let retryAfterMs: number | null = null
  let capabilitiesCheckedAt = 0
  let wasQuiet = false
  /** With --once: why the cycle did not complete. */
  let cycleProblem: CycleFailedError | undefined
  while (!signal.aborted) {
    const t = now()
    if (quiet()) {
      if (!wasQuiet) log.info('downtime.entered', {until: downtimeEnd(t, windows)?.toISOString() ?? null})
      wasQuiet = true
    } else {
      if (wasQuiet) log.info('downtime.left', {})
      wasQuiet = false
      try {
        if (t.getTime() - capabilitiesCheckedAt >= CAPABILITIES_CHECK_MS) {
          await reportCapabilities(ctx, clientId, {workloadDir: config.workloadDir, overrides: config.capabilities})
          capabilitiesCheckedAt = t.getTime()
        }
        await flushOutbox(ctx)
        if (mayPoll(t, windows) && t.getTime() >= nextPollAt) {
          lastPollAt = t
          const outcome = await syncOnce(ctx)
          recordSync(state, t, outcome.kind, 'reason' in outcome ? outcome.reason : undefined)
          opts.metrics?.cycle(outcome.kind, t)
          if (outcome.kind === 'rejected' || outcome.kind === 'fetch-failed') cycleProblem = new CycleFailedError(`the desired state was not adopted: ${outcome.reason}`, 1)
        }
        failures = 0
        retryAfterMs = null
      } catch (err) {
        if (!isCommunicationFailure(err)) throw err
        failures++
        lastPollAt = t
        retryAfterMs = err instanceof WfmResponseError ? parseRetryAfter(err.retryAfter, t) : null
        recordSync(state, t, 'failed', err.message)
        opts.metrics?.cycle('failed', t)
        cycleProblem = cycleFailure('sync', err)
        if (err instanceof WfmResponseError && err.pendingEnrollment) log.warn('enrollment.pending', {clientId, hint: 'an operator must approve this device: margo device approve ' + clientId})
        else if (!quiet()) log.warn('wfm.unreachable', {reason: err.message, failures})
      }
    }
    // Local work goes on whether or not the WFM answered: failed deployments are retried offline too.
    await reconciler.run(signal)
    if (!quiet()) {
      try {
        await flushOutbox(ctx)
      } catch (err) {
        if (!isCommunicationFailure(err)) throw err
        cycleProblem ??= cycleFailure('status report', err)
      }
    }
    if (opts.once) break

    const wake = nextWake(now(), planner, {lastPollAt, failures, retryAfterMs}, rng)
    nextPollAt = wake.at.getTime()
    const retryAt = workloads.all().map(w => w.nextAttemptAt).filter((v): v is string => v !== null).map(v => Date.parse(v)).reduce((a, b) => Math.min(a, b), Infinity)
    await sleepUntil(new Date(Math.min(wake.at.getTime(), retryAt)), now, signal)
  }
  await reconciler.settled()
  stopMetrics()
  log.info('agent.stopped', {})
  if (opts.once && !signal.aborted) {
    if (cycleProblem) throw cycleProblem
    const failed = workloads.all().filter(w => w.state === 'failed')
    if (failed.length > 0) {
      throw new CycleFailedError(`${failed.length === 1 ? 'a deployment is' : `${failed.length} deployments are`} failed: ${failed.map(w => `${w.deploymentId} (${w.lastError?.code ?? 'failed'})`).join(', ')}`, 1)
    }
  }
}

/** Writes the last poll's outcome for `margo agent status`, at most once a minute unless the outcome changes. */
const lastRecorded = new WeakMap<StateStore, SyncRecord>()
function recordSync(state: StateStore, at: Date, outcome: string, detail?: string) {
  const prev = lastRecorded.get(state) ?? state.readJson<SyncRecord>(SYNC_FILE) ?? null
  if (lastRecorded.has(state) && prev && prev.outcome === outcome && at.getTime() - Date.parse(prev.at) < 60_000) return
  // The previous record comes from disk after a restart, so `agent status --healthy` keeps the last good poll.
  const record = nextSyncRecord(prev, at, outcome, detail)
  state.writeJson(SYNC_FILE, record)
  lastRecorded.set(state, record)
}

/**
 * Presents the join token unless it was already presented for this server and certificate.
 * A refusal is logged with the server's reason and the device onboards anyway: it then waits
 * for an operator's approval. True once done either way.
 */
async function presentJoin(config: AgentConfig, caPem: string, token: string, identity: Identity, state: StateStore, log: Logger, now: () => Date): Promise<true> {
  const current = {server: config.server, fingerprint: `sha256:${identity.fingerprint}`, tokenSha256: tokenSha256(token)}
  const previous = loadJoinRecord(state)
  if (!needsJoin(previous, current)) {
    log.debug('join.already_presented', {outcome: previous!.outcome, at: previous!.at})
    return true
  }
  const answer = await presentJoinToken({server: config.server, caPem, token, fingerprint: current.fingerprint})
  const at = now().toISOString()
  if (answer.ok) {
    saveJoinRecord(config.stateDir, {...current, at, outcome: 'admitted', joinTokenId: answer.joinTokenId, labels: answer.labels})
    log.info('join.admitted', {joinTokenId: answer.joinTokenId, fingerprint: current.fingerprint, labels: answer.labels, repeated: answer.repeated})
  } else {
    saveJoinRecord(config.stateDir, {...current, at, outcome: 'refused', code: answer.code, message: answer.message})
    if (answer.code === 'already_active') log.info('join.not_needed', {reason: answer.message})
    else log.error('join.refused', {code: answer.code, reason: answer.message, hint: 'the device onboards without it and waits for an operator: margo device approve'})
  }
  return true
}

/** One onboarding attempt; undefined means "try again later" (pending approval, refused, unreachable). */
async function onboard(client: DeviceClient, identity: Identity, config: AgentConfig, log: Logger, now: () => Date): Promise<string | undefined> {
  const stored = clientIdFor(loadClientId(config.stateDir), {server: config.server, fingerprint: identity.fingerprint})
  if (stored) return stored
  const res = await client.onboard(identity.certPem)
  if (res.status === 201 || res.status === 200) {
    const parsed = parseOnboardingResponse(res.body)
    if (!parsed.ok) throw new WfmResponseError(502, null, {detail: parsed.reason}, 'onboarding')
    saveClientId(config.stateDir, {clientId: parsed.clientId, server: config.server, fingerprint: identity.fingerprint, onboardedAt: now().toISOString()})
    log.info('onboarding.accepted', {clientId: parsed.clientId})
    return parsed.clientId
  }
  const problem = problemOf(res.body)
  if (res.status === 403) log.warn('onboarding.refused', {detail: problem?.detail, hint: 'the WFM does not trust this certificate yet: an operator can pre-register or approve it'})
  else if (res.status === 400) log.error('onboarding.invalid', {detail: problem?.detail})
  throw new WfmResponseError(res.status, res.retryAfter, problem, 'onboarding')
}
