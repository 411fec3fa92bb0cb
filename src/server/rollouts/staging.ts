/**
 * The shell around the wave decisions (./strategy/decide.ts): gathers plain facts about a
 * staged rollout's devices, lets through the devices the decision admits (each change in one
 * transaction with its manifest, like every rollout change), records the run, and announces
 * every transition as a `rollout.progress` event and, for the server's own decisions, an audit
 * entry by `system`. Also the operator's pause, resume and abort, and the per-device reasons.
 */
import {randomUUID} from 'node:crypto'
import type {SecretReader} from '../secrets/resolve.ts'
import {livenessOf, type LivenessThresholds} from '../../operator-contract/liveness.ts'
import type {DeviceWhy, RolloutPhase, RolloutProgress} from '../../operator-contract/strategy.ts'
import {SYSTEM_ACTOR, appendAudit} from '../audit/service.ts'
import {publishManifest} from '../desired-state/publish.ts'
import {conflict} from '../domain-errors.ts'
import type {ClientRecord, DeploymentRecord, Store} from '../store/store.ts'
import {getRollout, listRevisions, listRollouts, rolloutDeploymentIds, type RolloutRecord} from '../store/rollouts-repo.ts'
import {getAdmission, getRun, latestRolloutStatus, listAdmissions, listWindows, putAdmission, putRun, type Admission} from '../store/waves-repo.ts'
import {announce, appFacts, apply, candidates, existingOf, facts, type Events} from './apply.ts'
import {inScope, planDevice, type AppFacts, type Decision} from './plan.ts'
import {specOf} from './revisions.ts'
import {decideRun, initialRun, operatorControl, waveProgress, whyNot, type DeviceRunFacts, type RunState, type Transition} from './strategy/decide.ts'
import {amountOf, formatWave, type Strategy} from './strategy/spec.ts'
import {assignWaves} from './strategy/waves.ts'
import {compileWindow, deviceWindow, windowClock, type CompiledWindow} from './strategy/windows.ts'

export interface StagingDeps {
  store: Store
  events: Events
  now: () => Date
  /** Last-seen times not yet flushed to the store. */
  lastSeen?: () => ReadonlyMap<string, string>
  thresholds?: LivenessThresholds
  /** Reads the secrets values refer to as `${secret:NAME}`. */
  secrets?: SecretReader
}

export const runKeyOf = (rollout: RolloutRecord, app: AppFacts | {error: string}) => `${rollout.revision}@${'error' in app ? '' : app.version}`

const CLOSED: readonly RolloutPhase[] = ['aborted', 'rolled-back']

/**
 * Whether a planned change of a staged rollout may be written for this device now: only once
 * the device is admitted in the current run, and never after an abort or a rollback. Removals
 * and relinks are not staged.
 */
export function gate(store: Store, rollout: RolloutRecord, runKey: string, d: Decision): boolean {
  if (!rollout.strategy || (d.action !== 'create' && d.action !== 'update')) return true
  const run = getRun(store, rollout.rolloutId)
  if (!run || run.runKey !== runKey || CLOSED.includes(run.phase)) return false
  return getAdmission(store, rollout.rolloutId, d.clientId)?.runKey === runKey
}

interface Snapshot {
  rollout: RolloutRecord & {strategy: Strategy}
  app: AppFacts | {error: string}
  runKey: string
  state: RunState
  fresh: boolean
  /** Facts per wave, in wave order. */
  waves: DeviceRunFacts[][]
  clients: Map<string, ClientRecord>
}

function compiledWindows(store: Store): CompiledWindow[] {
  return listWindows(store).map(compileWindow).filter((w): w is CompiledWindow => w !== null)
}

function snapshot(deps: StagingDeps, rollout: RolloutRecord & {strategy: Strategy}, nowIso: string): Snapshot {
  const {store} = deps
  const now = Date.parse(nowIso)
  const app = appFacts(store, rollout.appId, rollout.appVersion)
  const runKey = runKeyOf(rollout, app)
  const stored = getRun(store, rollout.rolloutId)
  const fresh = !stored || stored.runKey !== runKey
  const state = fresh ? initialRun(runKey, nowIso) : stored
  const clients = candidates(store, rollout).filter(c => c.enrollment !== 'revoked' && inScope(rollout, c))
  const byId = new Map(clients.map(c => [c.clientId, c]))
  const admissions = listAdmissions(store, rollout.rolloutId, runKey)
  const deployments = new Map<string, DeploymentRecord>()
  for (const id of rolloutDeploymentIds(store, rollout.rolloutId)) {
    const d = store.getDeployment(id)
    if (d) deployments.set(d.clientId, d)
  }
  const statuses = latestRolloutStatus(store, rollout.rolloutId)
  const failures = latestRolloutStatus(store, rollout.rolloutId, {failed: true})
  const pending = deps.lastSeen?.()
  const clock = windowClock(compiledWindows(store), now)
  const factsOf = (clientId: string): DeviceRunFacts => {
    const c = byId.get(clientId)!
    const a: Admission | undefined = admissions.get(clientId)
    const d = deployments.get(clientId)
    const latest = d ? statuses.get(d.deploymentId) : undefined
    const failure = d ? failures.get(d.deploymentId) : undefined
    // A report counts once the device's change reached it: made after the deployment last changed.
    // A failure stays one while the agent retries, until the device reports installed.
    const s = latest?.state !== 'installed' && failure && d && failure.at >= d.updatedAt ? failure : latest
    const current = s && d && s.at >= d.updatedAt ? s : undefined
    const lastSeenAt = pending?.get(clientId) ?? c.lastSeenAt
    const w = deviceWindow(clock, c.labels)
    return {
      clientId,
      admittedAt: a?.admittedAt ?? null,
      skipped: a?.skipped ?? null,
      status: current ? {state: current.state, at: current.at, error: current.errorJson ? errorOf(current.errorJson) : null} : null,
      online: livenessOf(lastSeenAt, new Date(now), deps.thresholds) !== 'offline',
      lastSeenAt,
      windowOpen: w.open,
      windowNext: !w.open && w.next !== null ? new Date(w.next).toISOString() : null,
      windows: w.open ? [] : w.windows,
    }
  }
  const waves = assignWaves(clients, rollout.strategy.waves).map(ids => ids.map(factsOf))
  return {rollout, app, runKey, state, fresh, waves, clients: byId}
}

function errorOf(json: string): {code: string, message: string} {
  try {
    const e = JSON.parse(json) as {code?: unknown, message?: unknown}
    return {code: typeof e.code === 'string' ? e.code : 'unknown', message: typeof e.message === 'string' ? e.message : ''}
  } catch {
    return {code: 'unknown', message: ''}
  }
}

function emitTransitions(deps: StagingDeps, rollout: RolloutRecord, transitions: readonly Transition[], actor: string) {
  for (const t of transitions) {
    deps.events.emit({type: 'rollout.progress', rolloutId: rollout.rolloutId, name: rollout.name, change: t.kind, wave: t.wave, reason: t.reason, actor})
  }
}

function auditTransitions(store: Store, rollout: RolloutRecord, transitions: readonly Transition[], actor: string, at: Date) {
  for (const t of transitions) {
    appendAudit(store, {actor, action: `rollout.${t.kind}`, target: `rollout:${rollout.name}`, summary: {rolloutId: rollout.rolloutId, wave: t.wave, reason: t.reason}}, at)
  }
}

/** Admits devices: plans each against the rollout and writes what it decides, in the caller's transaction. */
function admitDevices(store: Store, rollout: RolloutRecord, app: AppFacts | {error: string}, runKey: string, ids: readonly string[], nowIso: string, secrets?: SecretReader): DeploymentRecord[] {
  const changed: DeploymentRecord[] = []
  for (const clientId of ids) {
    const client = store.getClient(clientId)
    if (!client) continue
    const d = planDevice({rollout, device: facts(client), app, existing: existingOf(store, clientId, rollout.appId), adopt: true, now: nowIso, newDeploymentId: randomUUID, ...(secrets ? {secrets} : {})})
    const skipped = d.action === 'skip' ? {rule: d.reason, ...(d.kind === 'template' ? {code: 'unresolved_template' as const} : {})} : null
    putAdmission(store, rollout.rolloutId, {clientId, runKey, admittedAt: nowIso, skipped})
    const c = apply(store, rollout.rolloutId, d, nowIso)
    if (c) {
      changed.push(c)
      publishManifest(store, clientId, nowIso)
    }
  }
  return changed
}

/**
 * Rollback: every device admitted in this run gets the previous revision back (a rollout's
 * first revision has none: its deployments are removed). Runs in the caller's transaction.
 */
function rollBack(store: Store, rollout: RolloutRecord, runKey: string, nowIso: string, secrets?: SecretReader): DeploymentRecord[] {
  const previous = listRevisions(store, rollout.rolloutId).filter(r => r.revision < rollout.revision).at(-1)
  const admitted = [...listAdmissions(store, rollout.rolloutId, runKey).values()].filter(a => !a.skipped)
  const changed: DeploymentRecord[] = []
  const target = previous ? {...rollout, ...specOf(previous)} : null
  const app = target ? appFacts(store, target.appId, target.appVersion) : null
  for (const a of admitted) {
    const client = store.getClient(a.clientId)
    if (!client) continue
    let c: DeploymentRecord | null = null
    if (target && app) {
      const d = planDevice({rollout: target, device: facts(client), app, existing: existingOf(store, a.clientId, rollout.appId), adopt: false, now: nowIso, newDeploymentId: randomUUID, ...(secrets ? {secrets} : {})})
      c = apply(store, rollout.rolloutId, d, nowIso)
    } else {
      const ours = existingOf(store, a.clientId, rollout.appId).find(e => e.rolloutId === rollout.rolloutId)?.deployment
      if (ours) c = apply(store, rollout.rolloutId, {action: 'remove', clientId: a.clientId, current: ours}, nowIso)
    }
    if (c) {
      changed.push(c)
      publishManifest(store, a.clientId, nowIso)
    }
  }
  return changed
}

const isStaged = (r: RolloutRecord | null): r is RolloutRecord & {strategy: Strategy} => r !== null && !r.deleted && !!r.strategy

/**
 * Evaluates one staged rollout now and applies the decision. Returns the transitions made.
 * Safe to call at any time and as often as wanted: a decision only moves forward.
 */
export function advanceRollout(deps: StagingDeps, rolloutId: string): Transition[] {
  const {store} = deps
  const at = deps.now()
  const nowIso = at.toISOString()
  let changed: DeploymentRecord[] = []
  let transitions: Transition[] = []
  let rollout: RolloutRecord | null = null
  // Read, decide and write under the write lock: another process may evaluate the same rollout.
  store.transaction(() => {
    rollout = getRollout(store, rolloutId)
    if (!isStaged(rollout)) return
    const snap = snapshot(deps, rollout, nowIso)
    if ('error' in snap.app) return
    const decision = decideRun(rollout.strategy, snap.state, snap.waves, nowIso)
    transitions = snap.fresh ? [{kind: 'run_started', wave: 1, reason: `revision ${rollout.revision} (${rollout.appId}@${snap.app.version}) in ${snap.waves.length} wave(s)`}, ...decision.transitions] : decision.transitions
    if (!snap.fresh && decision.admit.length === 0 && transitions.length === 0) return
    changed = admitDevices(store, rollout, snap.app, snap.runKey, decision.admit, nowIso, deps.secrets)
    if (decision.state.phase === 'rolled-back' && snap.state.phase !== 'rolled-back') changed.push(...rollBack(store, rollout, snap.runKey, nowIso, deps.secrets))
    putRun(store, rollout.rolloutId, decision.state, nowIso)
    auditTransitions(store, rollout, transitions.filter(t => t.kind === 'paused' || t.kind === 'rolled_back' || t.kind === 'completed'), SYSTEM_ACTOR, at)
  })
  announce(deps.events, changed)
  if (rollout) emitTransitions(deps, rollout, transitions, SYSTEM_ACTOR)
  return transitions
}

/** Evaluates every staged rollout that can still move. */
export function advanceAll(deps: StagingDeps): void {
  for (const r of listRollouts(deps.store)) {
    if (!r.strategy) continue
    const run = getRun(deps.store, r.rolloutId)
    if (run && CLOSED.includes(run.phase)) continue
    advanceRollout(deps, r.rolloutId)
  }
}

/** `margo rollout pause|resume|abort`. */
export function controlRollout(deps: StagingDeps, rollout: RolloutRecord, action: 'pause' | 'resume' | 'abort', actor: string): RolloutProgress {
  if (!isStaged(rollout)) throw conflict(`rollout ${rollout.name} is not staged (deployed without --wave): it reached every device at once, so there is nothing to ${action}`, 'not_staged')
  const nowIso = deps.now().toISOString()
  const transition = deps.store.transaction(() => {
    const snap = snapshot(deps, rollout, nowIso)
    const r = operatorControl(snap.state, action, actor, snap.waves, rollout.strategy, nowIso)
    if (!r.ok) throw conflict(`cannot ${action} rollout ${rollout.name}: ${r.reason}`, 'rollout_state')
    putRun(deps.store, rollout.rolloutId, r.state, nowIso)
    return r.transition
  })
  emitTransitions(deps, rollout, [transition], actor)
  if (action === 'resume') advanceRollout(deps, rollout.rolloutId)
  return rolloutProgress(deps, getRollout(deps.store, rollout.rolloutId)!)!
}

/** Where a staged rollout is, per wave, and why each device that has not converged has not. */
export function rolloutProgress(deps: StagingDeps, rollout: RolloutRecord): RolloutProgress | null {
  if (!isStaged(rollout)) return null
  const nowIso = deps.now().toISOString()
  const snap = snapshot(deps, rollout, nowIso)
  const {strategy} = rollout
  const now = Date.parse(nowIso)
  const specs = [...strategy.waves.map(formatWave), 'rest']
  const waves = waveProgress(snap.waves, strategy, now, specs)
  const notConverged: DeviceWhy[] = []
  snap.waves.forEach((devices, i) => {
    const max = strategy.maxUnavailable ? amountOf(strategy.maxUnavailable, devices.length) : devices.length
    for (const d of devices) {
      const reason = whyNot(d, i, snap.state, strategy, nowIso, max)
      if (reason) notConverged.push({clientId: d.clientId, wave: i + 1, reason})
    }
  })
  const s = snap.state
  return {phase: s.phase, wave: s.wave + 1, waves, pause: s.pause, nextWaveAt: s.nextWaveAt, endedBy: s.endedBy, notConverged}
}
