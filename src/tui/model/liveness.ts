/**
 * How recently a device was heard from. The server may send its own judgement in `liveness`;
 * otherwise it is computed from `lastSeenAt` with the thresholds below.
 */
import type {Device} from '../../client/types.ts'
import {shortAge} from './format.ts'
import type {Tone} from './lines.ts'

export const STALE_AFTER_MS = 15 * 60_000
export const OFFLINE_AFTER_MS = 60 * 60_000

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
  else if (!device.lastSeenAt || Number.isNaN(age)) state = 'never'
  else if (age >= OFFLINE_AFTER_MS) state = 'offline'
  else if (age >= STALE_AFTER_MS) state = 'stale'
  else state = 'online'
  const label = state === 'stale' && !Number.isNaN(age) ? `stale ${shortAge(age)}` : state === 'never' ? 'never seen' : state
  return {state, label, tone: TONE[state]}
}
