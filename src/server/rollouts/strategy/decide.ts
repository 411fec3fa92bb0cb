/**
 * The wave controller's decisions, without I/O: given the strategy, the run's state, the
 * devices of each wave with plain facts (admitted when, what they reported since, whether
 * they are online, whether their window is open) and the time, which devices may advance
 * now and how the run moves on. The shell (../wave-controller.ts) applies the result in a
 * transaction and announces it.
 *
 * A device counts as done when it reported `installed` after its change reached it; `failed`
 * counts against the failure threshold, as does a device still not done after the wave
 * timeout. An offline device is excluded (`skip`), failed (`fail`), or waited for up to the
 * wave timeout and then excluded (`wait`). A wave completes when every device in it is done,
 * excluded, or failed within the threshold.
 */
import type {RolloutChangeKind} from '../../../operator-contract/events.ts'
import type {RolloutPhase, WaveProgress, WhyReason} from '../../../operator-contract/strategy.ts'
import {amountOf, type Strategy} from './spec.ts'

export interface RunPause {
  /** `operator`: margo rollout pause; `threshold`: too many failures; `manual`: --manual between waves. */
  code: 'operator' | 'threshold' | 'manual'
  by: string
  reason: string
}

export interface RunState {
  /** `<revision>@<app version>`: a new revision or a newly followed version starts a new run. */
  runKey: string
  phase: RolloutPhase
  /** 0-based index of the current wave. */
  wave: number
  waveStartedAt: string
  pause: RunPause | null
  /** Pause between waves: when the next wave may start. */
  nextWaveAt: string | null
  /** Failures an operator accepted by resuming; they no longer count against the threshold. */
  tolerated: string[]
  /** Who aborted, or why the run was rolled back. */
  endedBy: string | null
}

export interface DeviceRunFacts {
  clientId: string
  /** When it was admitted in this run; null when not yet. */
  admittedAt: string | null
  /** Set when admission found the rollout cannot run on the device (profile, values, template). */
  skipped: {rule: string, code?: 'unresolved_template'} | null
  /** The latest report made after the device's change reached it. */
  status: {state: string, at: string, error: {code: string, message: string} | null} | null
  online: boolean
  lastSeenAt: string | null
  /** Whether one of the device's update windows is open (true when it has none). */
  windowOpen: boolean
  /** When its next window opens (ISO), if closed. */
  windowNext: string | null
  windows: string[]
}

export type DeviceVerdict = 'done' | 'failed' | 'excluded' | 'pending' | 'waiting'

export interface Transition {
  kind: RolloutChangeKind
  /** 1-based, as operators count. */
  wave: number
  reason: string
}

export interface RunDecision {
  state: RunState
  admit: string[]
  transitions: Transition[]
}

export const initialRun = (runKey: string, now: string): RunState =>
  ({runKey, phase: 'running', wave: 0, waveStartedAt: now, pause: null, nextWaveAt: null, tolerated: [], endedBy: null})

const ms = (iso: string) => Date.parse(iso)

/** What an admitted device means for its wave now. */
export function verdict(d: DeviceRunFacts, strategy: Strategy, now: number): DeviceVerdict {
  if (d.admittedAt === null) return 'waiting'
  if (d.skipped) return 'excluded'
  if (d.status?.state === 'installed') return 'done'
  if (d.status?.state === 'failed') return 'failed'
  const late = now - ms(d.admittedAt) > strategy.waveTimeoutMs
  if (!d.online) {
    if (strategy.offline === 'skip') return 'excluded'
    if (strategy.offline === 'fail') return 'failed'
    return late ? 'excluded' : 'pending'
  }
  return late ? 'failed' : 'pending'
}

export function waveProgress(waves: readonly (readonly DeviceRunFacts[])[], strategy: Strategy, now: number, specs: readonly string[]): WaveProgress[] {
  return waves.map((devices, i) => {
    const p: WaveProgress = {wave: i + 1, spec: specs[i] ?? 'rest', size: devices.length, done: 0, failed: 0, excluded: 0, pending: 0, waiting: 0}
    for (const d of devices) p[verdict(d, strategy, now)]++
    return p
  })
}

const FINAL: readonly RolloutPhase[] = ['completed', 'aborted', 'rolled-back']

/**
 * One evaluation of a run: who is admitted now and how the run moves. Loops over waves that
 * complete at once (empty ones, or ones whose devices are already in place).
 */
export function decideRun(strategy: Strategy, state: RunState, waves: readonly (readonly DeviceRunFacts[])[], nowIso: string): RunDecision {
  const now = ms(nowIso)
  let s: RunState = {...state}
  const admit: string[] = []
  const transitions: Transition[] = []
  const admitted = new Set<string>()
  const isAdmitted = (d: DeviceRunFacts) => d.admittedAt !== null || admitted.has(d.clientId)

  if (s.phase === 'completed') {
    // Devices that joined the target after the last wave follow at once, in their windows.
    for (const d of waves.flat()) if (!isAdmitted(d) && d.windowOpen) admit.push(d.clientId)
    return {state: s, admit, transitions}
  }
  for (let guard = 0; guard <= waves.length + 1; guard++) {
    if (FINAL.includes(s.phase) || s.phase === 'paused') break
    if (s.phase === 'waiting') {
      if (s.pause?.code === 'manual' || s.nextWaveAt === null || now < ms(s.nextWaveAt)) break
      s = {...s, phase: 'running', wave: s.wave + 1, waveStartedAt: nowIso, nextWaveAt: null, pause: null}
      transitions.push({kind: 'wave_started', wave: s.wave + 1, reason: 'the pause between waves is over'})
      continue
    }
    const wave = waves[s.wave] ?? []
    const tolerated = new Set(s.tolerated)
    // An accepted failure stays settled while the device retries (installing again after failed).
    const verdicts = wave.map(d => {
      const v: DeviceVerdict = admitted.has(d.clientId) ? 'pending' : verdict(d, strategy, now)
      return {d, v: tolerated.has(d.clientId) && v !== 'done' ? 'failed' as const : v}
    })
    const failed = verdicts.filter(x => x.v === 'failed' && !tolerated.has(x.d.clientId))
    const threshold = amountOf(strategy.failureThreshold, wave.length)
    if (failed.length > threshold) {
      const reason = `${failed.length} of ${wave.length} device(s) in wave ${s.wave + 1} failed; the threshold is ${threshold}`
      if (strategy.onFailure === 'rollback') {
        s = {...s, phase: 'rolled-back', endedBy: reason}
        transitions.push({kind: 'rolled_back', wave: s.wave + 1, reason})
      } else {
        s = {...s, phase: 'paused', pause: {code: 'threshold', by: 'failure threshold', reason}}
        transitions.push({kind: 'paused', wave: s.wave + 1, reason})
      }
      break
    }
    const inFlight = verdicts.filter(x => x.v === 'pending').length
    const room = strategy.maxUnavailable ? Math.max(1, amountOf(strategy.maxUnavailable, wave.length)) - inFlight : Infinity
    let added = 0
    for (const {d, v} of verdicts) {
      if (added >= room) break
      if (v !== 'waiting' || !d.windowOpen) continue
      admit.push(d.clientId)
      admitted.add(d.clientId)
      added++
    }
    const settled = added === 0 && verdicts.every(x => x.v === 'done' || x.v === 'excluded' || x.v === 'failed')
    if (!settled) break
    const last = s.wave >= waves.length - 1
    transitions.push({kind: 'wave_completed', wave: s.wave + 1, reason: `${verdicts.filter(x => x.v === 'done').length} of ${wave.length} device(s) installed`})
    if (last) {
      s = {...s, phase: 'completed'}
      transitions.push({kind: 'completed', wave: s.wave + 1, reason: 'every wave is healthy'})
      break
    }
    if (strategy.manual) {
      s = {...s, phase: 'waiting', pause: {code: 'manual', by: 'strategy', reason: `wave ${s.wave + 1} is healthy; run margo rollout resume to start wave ${s.wave + 2}`}}
      transitions.push({kind: 'waiting', wave: s.wave + 1, reason: 'manual: waiting for margo rollout resume'})
      break
    }
    if (strategy.pauseBetweenMs > 0) {
      s = {...s, phase: 'waiting', nextWaveAt: new Date(now + strategy.pauseBetweenMs).toISOString()}
      transitions.push({kind: 'waiting', wave: s.wave + 1, reason: `pause between waves until ${s.nextWaveAt}`})
      break
    }
    s = {...s, wave: s.wave + 1, waveStartedAt: nowIso, tolerated: []}
    transitions.push({kind: 'wave_started', wave: s.wave + 1, reason: `wave ${s.wave} is healthy`})
  }
  return {state: s, admit, transitions}
}

/** `margo rollout pause|resume|abort`: the next state, or why the command does not apply. */
export function operatorControl(state: RunState, action: 'pause' | 'resume' | 'abort', by: string, waves: readonly (readonly DeviceRunFacts[])[], strategy: Strategy, nowIso: string): {ok: true, state: RunState, transition: Transition} | {ok: false, reason: string} {
  const wave = state.wave + 1
  if (FINAL.includes(state.phase)) return {ok: false, reason: `the rollout is ${state.phase}`}
  if (action === 'abort') return {ok: true, state: {...state, phase: 'aborted', endedBy: by, pause: null}, transition: {kind: 'aborted', wave, reason: `aborted by ${by}`}}
  if (action === 'pause') {
    if (state.phase === 'paused') return {ok: false, reason: `the rollout is already paused (${state.pause?.reason ?? ''})`}
    return {ok: true, state: {...state, phase: 'paused', pause: {code: 'operator', by, reason: `paused by ${by}`}}, transition: {kind: 'paused', wave, reason: `paused by ${by}`}}
  }
  if (state.phase === 'running') return {ok: false, reason: 'the rollout is running'}
  if (state.phase === 'waiting') {
    return {ok: true, state: {...state, phase: 'running', wave: state.wave + 1, waveStartedAt: nowIso, pause: null, nextWaveAt: null, tolerated: []}, transition: {kind: 'resumed', wave: wave + 1, reason: `resumed by ${by}: wave ${wave + 1} starts`}}
  }
  // Resuming after failures accepts them: only new ones count against the threshold.
  const now = ms(nowIso)
  const failed = (waves[state.wave] ?? []).filter(d => verdict(d, strategy, now) === 'failed').map(d => d.clientId)
  return {ok: true, state: {...state, phase: 'running', pause: null, tolerated: [...new Set([...state.tolerated, ...failed])]}, transition: {kind: 'resumed', wave, reason: `resumed by ${by}`}}
}

/** Why a device of the run has not converged; null when it has. */
export function whyNot(d: DeviceRunFacts, waveIndex: number, state: RunState, strategy: Strategy, nowIso: string, maxUnavailable: number): WhyReason | null {
  const v = verdict(d, strategy, ms(nowIso))
  if (v === 'done') return null
  if (state.phase === 'rolled-back') return {code: 'rolled_back', reason: state.endedBy ?? 'rolled back'}
  if (d.skipped) return d.skipped.code === 'unresolved_template' ? {code: 'unresolved_template', message: d.skipped.rule} : {code: 'skipped', rule: d.skipped.rule}
  if (v === 'failed' && d.status?.state === 'failed') return {code: 'failed', errorCode: d.status.error?.code ?? 'unknown', message: d.status.error?.message ?? 'the device reported failed'}
  if (v === 'failed' && !d.online) return {code: 'offline', since: d.lastSeenAt}
  if (v === 'failed') return {code: 'failed', errorCode: 'wave_timeout', message: `not installed within the wave timeout (${Math.round(strategy.waveTimeoutMs / 1000)}s)`}
  if (v === 'excluded') return {code: 'skipped', rule: `offline ${strategy.offline === 'skip' ? '(--offline skip)' : 'past the wave timeout (--offline wait)'}`}
  if (v === 'pending') return d.online ? {code: 'applying', since: d.admittedAt!} : {code: 'offline', since: d.lastSeenAt}
  if (state.phase === 'aborted') return {code: 'aborted', by: state.endedBy ?? 'operator'}
  if (state.phase === 'paused') return {code: 'paused', by: state.pause?.by ?? 'operator', reason: state.pause?.reason ?? 'paused'}
  if (waveIndex > state.wave || state.phase === 'waiting') return {code: 'waiting_for_wave', wave: waveIndex + 1, currentWave: state.wave + 1}
  if (!d.windowOpen) return {code: 'outside_window', windows: d.windows, nextAt: d.windowNext}
  return {code: 'queued', wave: waveIndex + 1, maxUnavailable}
}
