import {createHash, createPublicKey, type KeyObject} from 'node:crypto'
import {join} from 'node:path'
import type {HostFacts} from '../agent/capabilities/index.ts'
import type {AgentKeyType} from '../agent/config/types.ts'
import {DeviceClient, TransportError, parseOnboardingResponse, type FetchLike} from '../agent/device-client.ts'
import {clientIdFor, ensureIdentity, loadClientId, saveClientId} from '../agent/identity.ts'
import {reportCapabilities} from '../agent/runtime/capabilities-reporter.ts'
import type {AgentContext} from '../agent/runtime/context.ts'
import {WfmResponseError, problemOf} from '../agent/runtime/errors.ts'
import {Reconciler} from '../agent/runtime/reconciler.ts'
import {flushOutbox} from '../agent/runtime/status-sender.ts'
import {syncOnce} from '../agent/runtime/sync-cycle.ts'
import {backoffDelay, jitter, parseRetryAfter} from '../agent/schedule/backoff.ts'
import {MemoryState} from '../agent/state/memory-state.ts'
import {Outbox} from '../agent/state/outbox.ts'
import {WorkloadStore} from '../agent/state/workloads.ts'
import type {Driver} from '../agent/types.ts'
import type {ProfileType} from '../margo/vocabulary.ts'
import {parseCertificate, createSelfSignedDeviceCertificate} from '../pki/index.ts'
import {defaultAlgorithm, generateKeyPair, type SignatureAlgorithm} from '../signing/index.ts'
import type {Logger} from '../util/log.ts'
import type {Distribution} from './distribution.ts'
import {drawOutage, type Rng} from './faults.ts'
import {onlineState, type DeviceState} from './summary.ts'

/** What every simulated device shares: one CA, one set of drivers, one logger, one counter set. */
export interface Fleet {
  server: string
  caPem: string
  pollIntervalMs: number
  keyType: AgentKeyType
  /** Identities and clientIds are kept in `<stateDir>/<index>/` when set. */
  stateDir?: string
  drivers: Record<ProfileType, Driver>
  offline: {rate: number, outage: Distribution}
  /** Sets the device's labels through the operator API; absent when no labels were asked for. */
  applyLabels?: (index: number, clientId: string) => Promise<void>
  rng: Rng
  log: Logger
  signal: AbortSignal
  counters: {polls: number, errors: number, lastError: string | null}
  /** Shared by every device: it keeps the requests in flight within the connection pool. */
  fetch: FetchLike
}

interface SimIdentity {
  privateKey: KeyObject
  alg: SignatureAlgorithm
  certPem: string
  fingerprint: string
}

/** A machine the device describes in its capabilities; the simulator does not report its own host. */
function factsFor(name: string): HostFacts {
  return {hostname: name, cpuCores: 4, architecture: 'amd64', memoryBytes: 8 * 2 ** 30, storageBytes: 64 * 2 ** 30, interfaces: ['ethernet'], gpus: []}
}

const isCommunicationFailure = (err: unknown): err is TransportError | WfmResponseError =>
  err instanceof TransportError || err instanceof WfmResponseError

/**
 * One simulated device: a real Margo client (its own key and certificate, onboarding, signed
 * polls, status reports) run by the agent's own sync, reconcile and outbox code over state
 * held in memory. It has no timer of its own: the runner calls `cycle()` when it is due and
 * schedules it again at the time `cycle()` returns.
 */
export class SimDevice {
  private phase: 'starting' | 'pending-approval' | 'online' = 'starting'
  private offlineUntil = 0
  private failures = 0
  private identity: SimIdentity | undefined
  private ctx: AgentContext | undefined
  private reconciler: Reconciler | undefined
  private clientId: string | undefined
  private capabilitiesReported = false
  private labelled = false

  constructor(readonly index: number, readonly name: string, private readonly fleet: Fleet) {}

  get id(): string | undefined {
    return this.clientId
  }

  state(now = Date.now()): DeviceState {
    if (this.offlineUntil > now) return 'offline'
    if (this.phase !== 'online' || !this.ctx) return this.phase === 'online' ? 'starting' : this.phase
    return onlineState(this.ctx.workloads.all().map(w => w.state))
  }

  /** Deployments this device reports failed, with the error it sent. */
  failed(): {deploymentId: string, code: string, message: string}[] {
    return (this.ctx?.workloads.all() ?? []).filter(w => w.state === 'failed').map(w => {
      const error = w.lastError ?? w.components.find(c => c.error)?.error
      return {deploymentId: w.deploymentId, code: error?.code ?? 'FAILED', message: error?.message ?? ''}
    })
  }

  /** One poll cycle, like one turn of the agent's loop; returns when (epoch ms) the device is due again. */
  async cycle(): Promise<number> {
    const fleet = this.fleet
    const now = Date.now()
    if (this.offlineUntil > now) return this.offlineUntil
    const dark = drawOutage(fleet.offline.rate, fleet.pollIntervalMs, fleet.offline.outage, fleet.rng)
    if (dark !== null) {
      this.offlineUntil = now + dark
      return this.offlineUntil
    }

    let retryAfterMs: number | null = null
    try {
      const ctx = await this.ready()
      if (ctx) {
        await flushOutbox(ctx)
        fleet.counters.polls++
        await syncOnce(ctx)
        this.phase = 'online'
      }
      this.failures = 0
    } catch (err) {
      if (!isCommunicationFailure(err) && !(err instanceof LabelError)) throw err
      // Requests cut short by the end of the run are not the fleet manager's errors.
      if (fleet.signal.aborted) return Date.now()
      this.failures++
      fleet.counters.errors++
      fleet.counters.lastError = `${this.name}: ${err.message}`
      retryAfterMs = err instanceof WfmResponseError ? parseRetryAfter(err.retryAfter, new Date()) : null
      if (err instanceof WfmResponseError && err.pendingEnrollment) this.phase = 'pending-approval'
    }
    if (this.ctx && this.reconciler) {
      // Local work goes on whether or not the WFM answered, as on a real device.
      await this.reconciler.run(fleet.signal)
      try {
        await flushOutbox(this.ctx)
      } catch (err) {
        if (!isCommunicationFailure(err)) throw err
      }
    }
    const next = this.failures > 0
      ? Date.now() + backoffDelay(this.failures, {capMs: fleet.pollIntervalMs, retryAfterMs, rng: fleet.rng})
      : Date.now() + jitter(fleet.pollIntervalMs, fleet.rng)
    const retryAt = (this.ctx?.workloads.all() ?? []).map(w => w.nextAttemptAt).filter((v): v is string => v !== null).map(v => Date.parse(v)).reduce((a, b) => Math.min(a, b), Infinity)
    return Math.min(next, retryAt)
  }

  /** Identity, onboarding, capabilities and labels, each done once; the context once onboarded. */
  private async ready(): Promise<AgentContext | undefined> {
    const fleet = this.fleet
    this.identity ??= await this.loadIdentity()
    const identity = this.identity
    if (!this.ctx) {
      const client = new DeviceClient({server: fleet.server, caPem: fleet.caPem, privateKey: identity.privateKey, alg: identity.alg, signal: fleet.signal, fetch: fleet.fetch})
      const state = new MemoryState()
      const log = deviceLogger(fleet.log, this.name)
      this.ctx = {
        client, state, workloads: new WorkloadStore(state), outbox: new Outbox(state), drivers: fleet.drivers, log,
        now: () => new Date(), rng: fleet.rng, quiet: () => false,
        driverContext: (deploymentId: string) => ({
          // Simulated drivers never write here; a removal only deletes it if it exists.
          workDir: join('/nonexistent/margo-simulate', this.name, deploymentId),
          binaries: {},
          download: () => Promise.reject(new Error('simulated devices download nothing')),
          signal: fleet.signal,
          log,
        }),
      }
      this.reconciler = new Reconciler(this.ctx)
    }
    const ctx = this.ctx
    if (!this.clientId) {
      this.clientId = await this.onboard(ctx.client, identity)
      ctx.client.clientId = this.clientId
      this.phase = 'online'
    }
    if (!this.capabilitiesReported) {
      await reportCapabilities(ctx, this.clientId, {workloadDir: '/', overrides: {}, facts: factsFor(this.name)})
      this.capabilitiesReported = true
    }
    if (!this.labelled && fleet.applyLabels) {
      try {
        await fleet.applyLabels(this.index, this.clientId)
      } catch (err) {
        throw new LabelError(`labels: ${(err as Error).message}`)
      }
      this.labelled = true
    }
    return ctx
  }

  private dir(): string | undefined {
    return this.fleet.stateDir ? join(this.fleet.stateDir, String(this.index)) : undefined
  }

  private async loadIdentity(): Promise<SimIdentity> {
    const subject = `CN=${this.name}, O=margo-simulate`
    const dir = this.dir()
    if (dir) {
      const id = await ensureIdentity(dir, {keyType: this.fleet.keyType, subject})
      return {privateKey: id.privateKey, alg: id.alg, certPem: id.certPem, fingerprint: id.fingerprint}
    }
    const {privateKey} = generateKeyPair(this.fleet.keyType)
    const certPem = await createSelfSignedDeviceCertificate({privateKey, publicKey: createPublicKey(privateKey), subject, days: 3650})
    const parsed = parseCertificate(certPem)
    if (!parsed.ok) throw new Error(`a generated certificate cannot be read back: ${parsed.reason}`)
    return {privateKey, alg: defaultAlgorithm(privateKey), certPem, fingerprint: createHash('sha256').update(parsed.der).digest('hex')}
  }

  /** As the agent onboards: reuse the clientId this server gave this certificate, else POST /onboarding. */
  private async onboard(client: DeviceClient, identity: SimIdentity): Promise<string> {
    const dir = this.dir()
    const current = {server: this.fleet.server, fingerprint: identity.fingerprint}
    const stored = dir ? clientIdFor(loadClientId(dir), current) : null
    if (stored) return stored
    const res = await client.onboard(identity.certPem)
    if (res.status === 201 || res.status === 200) {
      const parsed = parseOnboardingResponse(res.body)
      if (!parsed.ok) throw new WfmResponseError(502, null, {detail: parsed.reason}, 'onboarding')
      if (dir) saveClientId(dir, {clientId: parsed.clientId, ...current, onboardedAt: new Date().toISOString()})
      return parsed.clientId
    }
    throw new WfmResponseError(res.status, res.retryAfter, problemOf(res.body), 'onboarding')
  }
}

/** Setting labels through the operator API failed; retried at the next cycle. */
class LabelError extends Error {}

function deviceLogger(log: Logger, device: string): Logger {
  return {
    debug: (event, fields) => log.debug(event, {device, ...fields}),
    info: (event, fields) => log.info(event, {device, ...fields}),
    warn: (event, fields) => log.warn(event, {device, ...fields}),
    error: (event, fields) => log.error(event, {device, ...fields}),
  }
}
