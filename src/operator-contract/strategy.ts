/**
 * How a rollout is staged, as the operator writes it (flags, a strategy file, the request
 * body). Everything is a string or a boolean so the server parses one grammar and names every
 * problem at once (src/server/rollouts/strategy/spec.ts).
 */
export interface StrategyRequest {
  /** `1` (a count), `10%` (of the target), or a label selector such as `canary=true`. The rest is the last wave. */
  waves?: string[]
  /** Count or % of a wave updating at once. */
  maxUnavailable?: string
  /** Count or % of a wave that may fail before the rollout stops (default 0). */
  failureThreshold?: string
  /** How long a device may take to report installed (default 30m). */
  waveTimeout?: string
  offline?: 'skip' | 'wait' | 'fail'
  /** Time between one healthy wave and the next. */
  pauseBetween?: string
  /** Wait for `margo rollout resume` between waves. */
  manual?: boolean
  onFailure?: 'pause' | 'rollback'
}

/** Per-device value overrides: values for the devices a selector matches; later entries win. */
export interface SetForRequest {
  selector: string
  values: Record<string, unknown>
}

export type RolloutPhase = 'running' | 'waiting' | 'paused' | 'completed' | 'aborted' | 'rolled-back'

/** Why a device of a rollout has not converged; `code` is stable for scripts. */
export type WhyReason =
  | {code: 'waiting_for_wave', wave: number, currentWave: number}
  | {code: 'queued', wave: number, maxUnavailable: number}
  | {code: 'outside_window', windows: string[], nextAt: string | null}
  | {code: 'paused', by: string, reason: string}
  | {code: 'aborted', by: string}
  | {code: 'rolled_back', reason: string}
  | {code: 'skipped', rule: string}
  | {code: 'offline', since: string | null}
  | {code: 'failed', errorCode: string, message: string}
  | {code: 'applying', since: string}
  | {code: 'unresolved_template', message: string}

export type Amount = {count: number} | {percent: number}

export type WaveSpec = {kind: 'count', count: number} | {kind: 'percent', percent: number} | {kind: 'selector', selector: string}

/** A checked strategy, as stored and shown. */
export interface Strategy {
  /** The explicit waves; the rest of the target is always one more wave after them. */
  waves: WaveSpec[]
  maxUnavailable: Amount | null
  failureThreshold: Amount
  waveTimeoutMs: number
  offline: 'skip' | 'wait' | 'fail'
  pauseBetweenMs: number
  manual: boolean
  onFailure: 'pause' | 'rollback'
}

export interface WaveProgress {
  /** 1-based. */
  wave: number
  /** `1`, `10%`, a selector, or `rest`. */
  spec: string
  size: number
  done: number
  failed: number
  excluded: number
  pending: number
  waiting: number
}

export interface DeviceWhy {
  clientId: string
  /** 1-based. */
  wave: number
  reason: WhyReason
}

/** Where a staged rollout is (`GET /rollouts/{name}` → `progress`, `GET /status/{rollout}`). */
export interface RolloutProgress {
  phase: RolloutPhase
  /** The current wave, 1-based. */
  wave: number
  waves: WaveProgress[]
  pause: {code: 'operator' | 'threshold' | 'manual', by: string, reason: string} | null
  nextWaveAt: string | null
  /** Who aborted, or why the run was rolled back. */
  endedBy: string | null
  /** Every device of the rollout that has not converged, with one reason. */
  notConverged: DeviceWhy[]
}

/** `POST /windows`. */
export interface UpdateWindowRequest {
  name: string
  selector: string
  /** Five-field cron: minute hour day-of-month month day-of-week. */
  schedule: string
  /** How long the window stays open after each firing, e.g. `2h`. */
  duration: string
  /** IANA name; default UTC. */
  timeZone?: string
}

export interface UpdateWindow {
  name: string
  selector: string
  schedule: string
  duration: string
  durationMs: number
  timeZone: string
  createdAt: string
  open: boolean
  nextOpenAt: string | null
}
