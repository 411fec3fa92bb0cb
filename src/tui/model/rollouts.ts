/**
 * Rollouts as the dashboard shows them: a phase, one progress bar per wave, and for every device
 * that has not converged its one "why not yet" reason. An unstaged rollout is shown as a single
 * wave of all its targets, so every rollout reads the same way.
 */
import type {RolloutPhase, Strategy, WaveProgress, WhyReason} from '../../operator-contract/strategy.ts'
import type {RolloutDetail} from '../../operator-contract/views.ts'
import {ago, shortAge} from './format.ts'
import {type Line, squeeze, text, type Tone} from './lines.ts'

/** A rollout with what `GET /rollouts/{name}` says about it (targets, and progress when staged). */
export type RolloutEntry = RolloutDetail

/** What the Rollouts pane and the rollout view show as its phase; an unstaged rollout has no run of its own. */
export type PhaseLabel = RolloutPhase | 'no devices'

export function rolloutPhase(r: RolloutEntry): PhaseLabel {
  if (r.progress) return r.progress.phase
  if (r.targets.length === 0) return 'no devices'
  return r.targets.every(d => d.status?.state === 'installed' && d.status.reportedAt >= d.updatedAt) ? 'completed' : 'running'
}

export function phaseTone(phase: PhaseLabel): Tone | undefined {
  if (phase === 'completed') return 'green'
  if (phase === 'paused' || phase === 'waiting') return 'yellow'
  if (phase === 'aborted' || phase === 'rolled-back') return 'red'
  if (phase === 'no devices') return 'dim'
  return undefined
}

/** The waves of a rollout; an unstaged one is a single wave `all` of its targets. */
export function rolloutWaves(r: RolloutEntry): WaveProgress[] {
  if (r.progress) return r.progress.waves
  const w: WaveProgress = {wave: 1, spec: 'all', size: r.targets.length, done: 0, failed: 0, excluded: 0, pending: 0, waiting: 0}
  for (const d of r.targets) {
    const state = d.status && d.status.reportedAt >= d.updatedAt ? d.status.state : undefined
    if (state === 'installed') w.done++
    else if (state === 'failed') w.failed++
    else if (state) w.pending++
    else w.waiting++
  }
  return [w]
}

/** The wave the rollout is at (1-based) and how many there are. */
export function currentWave(r: RolloutEntry): {wave: number, of: number} {
  const waves = rolloutWaves(r)
  return {wave: Math.min(r.progress?.wave ?? 1, waves.length), of: waves.length}
}

/** `[####x-----]`: done, failed or excluded, the rest; the same marks as `margo rollout show`. */
export function waveBar(w: WaveProgress, width = 10): string {
  if (w.size === 0) return `[${'·'.repeat(width)}]`
  const done = Math.round((w.done / w.size) * width)
  const bad = Math.min(width - done, Math.max(w.failed + w.excluded > 0 ? 1 : 0, Math.round(((w.failed + w.excluded) / w.size) * width)))
  return `[${'#'.repeat(done)}${'x'.repeat(bad)}${'-'.repeat(width - done - bad)}]`
}

export function waveTone(w: WaveProgress): Tone | undefined {
  if (w.failed > 0) return 'red'
  if (w.size > 0 && w.done + w.excluded === w.size) return 'green'
  return undefined
}

/** `1 failed, 2 applying, 7 waiting`: what is not done yet, for the wave's line. */
export function waveNote(w: WaveProgress): string {
  return [
    w.failed ? `${w.failed} failed` : '',
    w.excluded ? `${w.excluded} excluded` : '',
    w.pending ? `${w.pending} applying` : '',
    w.waiting ? `${w.waiting} waiting` : '',
  ].filter(Boolean).join(', ')
}

/** The phase with its cause: where it stopped and why, or when the next wave starts. */
export function phaseDetail(r: RolloutEntry, now: number): string {
  const p = r.progress
  if (!p) return `${rolloutPhase(r)} (all devices at once)`
  const at = `wave ${p.wave}/${p.waves.length}`
  switch (p.phase) {
    case 'paused': return `paused at ${at}: ${p.pause?.reason ?? 'paused'}`
    case 'waiting': return `waiting after ${at}: ${p.pause?.reason ?? (p.nextWaveAt ? `next wave ${ago(p.nextWaveAt, now)}` : 'resume starts the next wave')}`
    case 'aborted': return `aborted at ${at} by ${p.endedBy ?? 'operator'}`
    case 'rolled-back': return `rolled back at ${at}: ${p.endedBy ?? ''}`
    default: return `${p.phase} (${at})`
  }
}

const amount = (a: {count: number} | {percent: number}) => ('count' in a ? String(a.count) : `${a.percent}%`)

/** The strategy in the words of the deploy flags: the waves and what stops them, then the limits. */
export function strategyText(s: Strategy, waves: readonly WaveProgress[]): {waves: string, limits: string} {
  return {
    waves: `${waves.map(w => w.spec).join(', ')} · on failure ${s.onFailure}${s.manual ? ' · manual' : s.pauseBetweenMs > 0 ? ` · pause ${shortAge(s.pauseBetweenMs)}` : ''}`,
    limits: [
      `failure threshold ${amount(s.failureThreshold)}`,
      `offline ${s.offline}`,
      `wave timeout ${shortAge(s.waveTimeoutMs)}`,
      s.maxUnavailable ? `max unavailable ${amount(s.maxUnavailable)}` : '',
    ].filter(Boolean).join(' · '),
  }
}

/** A time as the dashboard says it: relative to now, "never" when unknown. */
const when = (iso: string | null, now: number) => (iso ? ago(iso, now) : 'never seen')

/** One device's "why not yet", short enough for a line of its own. */
export function whyText(r: WhyReason, now: number): string {
  switch (r.code) {
    case 'waiting_for_wave': return `waiting for wave ${r.wave} (at wave ${r.currentWave})`
    case 'queued': return `queued in wave ${r.wave}: ${r.maxUnavailable} at a time`
    case 'outside_window': return `outside window ${r.windows.join(', ')}${r.nextAt ? ` until ${ago(r.nextAt, now)}` : ''}`
    case 'paused': return `paused by ${r.by}: ${r.reason}`
    case 'aborted': return `aborted by ${r.by}`
    case 'rolled_back': return `rolled back: ${r.reason}`
    case 'skipped': return `skipped (${r.rule})`
    case 'offline': return `offline since ${when(r.since, now)}`
    case 'failed': return `failed (${r.errorCode}: ${r.message})`
    case 'applying': return `applying since ${ago(r.since, now)}`
    case 'unresolved_template': return `template does not resolve: ${r.message}`
  }
}

export function whyTone(r: WhyReason): Tone | undefined {
  if (r.code === 'failed' || r.code === 'aborted' || r.code === 'rolled_back' || r.code === 'unresolved_template') return 'red'
  if (r.code === 'offline' || r.code === 'paused' || r.code === 'skipped' || r.code === 'outside_window') return 'yellow'
  if (r.code === 'waiting_for_wave' || r.code === 'queued') return 'dim'
  return undefined
}

/** A row of the rollout view: a wave's bar, or a device under it. */
export type RolloutRow =
  | {kind: 'wave', wave: WaveProgress, current: boolean}
  | {kind: 'device', clientId: string, wave: number, reason: WhyReason | null, state?: string}
  | {kind: 'converged', count: number}

/**
 * The rollout view's rows: each wave, then its devices that have not converged with their
 * reason. The progress names a wave only for devices still on their way, so the converged ones
 * follow the waves, under their own heading.
 */
export function rolloutRows(r: RolloutEntry): RolloutRow[] {
  const rows: RolloutRow[] = []
  const waves = rolloutWaves(r)
  const cur = currentWave(r).wave
  if (r.progress) {
    const why = r.progress.notConverged
    for (const w of waves) {
      rows.push({kind: 'wave', wave: w, current: w.wave === cur && r.progress.phase !== 'completed'})
      for (const d of why.filter(x => x.wave === w.wave)) rows.push({kind: 'device', clientId: d.clientId, wave: d.wave, reason: d.reason})
    }
    const waiting = new Set(why.map(d => d.clientId))
    const converged = r.targets.filter(d => !waiting.has(d.clientId) && d.desired === 'present')
    if (converged.length > 0) {
      rows.push({kind: 'converged', count: converged.length})
      for (const d of converged) rows.push({kind: 'device', clientId: d.clientId, wave: 0, reason: null, state: d.status?.state ?? 'unreported'})
    }
    return rows
  }
  rows.push({kind: 'wave', wave: waves[0]!, current: rolloutPhase(r) !== 'completed'})
  for (const d of r.targets) rows.push({kind: 'device', clientId: d.clientId, wave: 1, reason: null, state: d.status?.state ?? 'unreported'})
  return rows
}

/** The device rows of the rollout view, in order: what the cursor moves over. */
export function rolloutDevices(r: RolloutEntry): string[] {
  return rolloutRows(r).flatMap(x => (x.kind === 'device' ? [x.clientId] : []))
}

/** Every staged rollout's reason for one device, for the device view. */
export function reasonsFor(rollouts: readonly RolloutEntry[], clientId: string): {name: string, wave: number, reason: WhyReason}[] {
  return rollouts.flatMap(r => (r.progress?.notConverged ?? []).filter(d => d.clientId === clientId).map(d => ({name: r.name, wave: d.wave, reason: d.reason})))
}

/** Pause, resume or abort: what the operator may do to a staged rollout's run. */
export type RolloutControl = 'pause' | 'resume' | 'abort'

/**
 * Why a control does not apply to this rollout, before asking the server; undefined when it
 * may. The server decides in the end (the run may have moved on meanwhile).
 */
export function controlRefusal(r: RolloutEntry, action: RolloutControl): string | undefined {
  const p = r.progress
  if (!p) return `${r.name} is not staged: its devices all update at once, there is no run to ${action}`
  if (p.phase === 'completed' || p.phase === 'aborted' || p.phase === 'rolled-back') return `${r.name} is ${p.phase}: nothing to ${action}`
  if (action === 'pause' && p.phase === 'paused') return `${r.name} is already paused — r resumes it`
  if (action === 'resume' && p.phase === 'running') return `${r.name} is running — p pauses it`
  return undefined
}

function abortPrompt(name: string, consequence: string): (Line[number] & {flex?: boolean})[] {
  return [text('Abort rollout ', 'yellow'), {...text(name, 'yellow'), flex: true}, text(`?${consequence} (y/n)`, 'yellow')]
}

const KEEP = ' No further waves; devices keep what they have.'

export function abortQuestion(name: string): string {
  return abortPrompt(name, KEEP).map(s => s.text).join('')
}

/** The abort question fitted to `width`: the consequence goes before the name is cut. */
export function abortPromptLine(name: string, width: number): Line {
  const full = abortPrompt(name, KEEP)
  if (full.reduce((n, s) => n + s.text.length, 0) <= width) return full
  return squeeze(abortPrompt(name, ''), width)
}
