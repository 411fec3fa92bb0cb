/**
 * How recently a device was heard from. The server may send its own judgement in `liveness`;
 * otherwise it is computed from `lastSeenAt` with the default thresholds of the operator contract.
 */
import type {Device} from '../../operator-contract/views.ts'
import {DEFAULT_LIVENESS_THRESHOLDS, livenessOf} from '../../operator-contract/liveness.ts'
import {shortAge} from './format.ts'
import type {Tone} from './lines.ts'

export type LivenessState = 'online' | 'stale' | 'offline' | 'never'

export interface Liveness {
  state: LivenessState
  /** "online", "stale 20m", "offline", "never seen". */
  label: string
  tone: Tone | undefined
}

const TONE: Record<LivenessState, Tone | undefined> = {online: 'green', stale: 'yellow', offline: 'red', never: 'dim'}

export function deviceLiveness(device: Pick<Device, 'lastSeenAt'> & {liveness?: unknown}, now: number): Liveness {
  const age = device.lastSeenAt ? now - Date.parse(device.lastSeenAt) : Number.NaN
  const reported = typeof device.liveness === 'string' ? device.liveness : (device.liveness as {state?: unknown} | undefined)?.state
  let state: LivenessState
  if (reported === 'online' || reported === 'stale' || reported === 'offline') state = reported
  // The contract counts a device never seen as offline; the TUI tells the two apart.
  else if (!device.lastSeenAt || Number.isNaN(age)) state = 'never'
  else state = livenessOf(device.lastSeenAt, new Date(now), DEFAULT_LIVENESS_THRESHOLDS)
  const label = state === 'stale' && !Number.isNaN(age) ? `stale ${shortAge(age)}` : state === 'never' ? 'never seen' : state
  return {state, label, tone: TONE[state]}
}
