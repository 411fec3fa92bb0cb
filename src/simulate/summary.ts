import type {DeploymentState} from '../margo/status.ts'

/**
 * Where one simulated device stands, from the operator's point of view: not yet known to the
 * fleet manager, waiting for approval, dark, or (once online) the state of its least settled
 * deployment.
 */
export const DEVICE_STATES = ['starting', 'pending-approval', 'offline', 'idle', 'pending', 'installing', 'removing', 'failed', 'installed'] as const
export type DeviceState = (typeof DEVICE_STATES)[number]

/** The order an online device's deployments are summarised in: anything unsettled or failed shows before `installed`. */
const PRECEDENCE: readonly DeploymentState[] = ['failed', 'installing', 'removing', 'pending', 'installed', 'removed']

/** An online device's state from its deployments' states; `idle` when it has none (or only removed ones). */
export function onlineState(deployments: readonly DeploymentState[]): DeviceState {
  for (const state of PRECEDENCE) {
    if (state !== 'removed' && deployments.includes(state)) return state
  }
  return 'idle'
}

export interface Snapshot {
  devices: number
  states: Record<DeviceState, number>
  polls: number
  pollsPerSecond: number
  /** Requests that got no usable answer, or an error status. */
  errors: number
  elapsedSeconds: number
}

export function countStates(states: Iterable<DeviceState>): Record<DeviceState, number> {
  const counts = Object.fromEntries(DEVICE_STATES.map(s => [s, 0])) as Record<DeviceState, number>
  for (const s of states) counts[s]++
  return counts
}

/** `1000 devices: 950 installed, 30 installing, 20 failed | 33.2 polls/s | 0 errors | 1m05s`; states with no device are left out. */
export function summaryLine(s: Snapshot): string {
  const states = DEVICE_STATES.filter(k => s.states[k] > 0).map(k => `${s.states[k]} ${k}`).join(', ')
  return `${s.devices} devices: ${states || 'none'} | ${s.pollsPerSecond.toFixed(1)} polls/s | ${s.errors} error${s.errors === 1 ? '' : 's'} | ${clock(s.elapsedSeconds)}`
}

function clock(seconds: number): string {
  const s = Math.floor(seconds)
  const m = Math.floor(s / 60)
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}

/** Polls per second over a sliding window of (time, total polls) samples. */
export function rate(samples: readonly {at: number, polls: number}[]): number {
  if (samples.length < 2) return 0
  const first = samples[0]!
  const last = samples.at(-1)!
  const seconds = (last.at - first.at) / 1000
  return seconds > 0 ? (last.polls - first.polls) / seconds : 0
}
