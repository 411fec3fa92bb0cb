/**
 * Ownership between rollouts of one app, decided without I/O: a device is targeted by at most
 * one rollout of an app. A deploy that would make a second rollout reach a device is refused;
 * these functions name the other rollout and the devices.
 */
import {inScope} from './plan.ts'

export interface RolloutScope {
  rolloutId: string
  name: string
  appId: string
  selector: string | null
  devices: string[]
}

export interface DeviceLabels {
  clientId: string
  labels: Record<string, string>
}

export interface OwnershipConflict {
  /** The other rollout. */
  rolloutId: string
  name: string
  /** Devices both would reach, sorted. */
  devices: string[]
}

/**
 * Which other rollouts of the same app already reach devices `candidate` would reach. A rollout
 * reaches a device in its scope now, or one it still runs a deployment on (`owned`).
 */
export function ownershipConflicts(
  candidate: RolloutScope,
  others: readonly RolloutScope[],
  devices: readonly DeviceLabels[],
  owned: ReadonlyMap<string, ReadonlySet<string>>,
): OwnershipConflict[] {
  const wanted = devices.filter(d => inScope(candidate, d))
  const out: OwnershipConflict[] = []
  for (const other of others) {
    if (other.appId !== candidate.appId || other.rolloutId === candidate.rolloutId) continue
    const theirs = owned.get(other.rolloutId) ?? new Set<string>()
    const shared = wanted.filter(d => theirs.has(d.clientId) || inScope(other, d)).map(d => d.clientId).sort()
    if (shared.length > 0) out.push({rolloutId: other.rolloutId, name: other.name, devices: shared})
  }
  return out
}

/** One sentence naming each conflict, for the 409 and for a dry run. */
export function describeConflicts(appId: string, name: string, conflicts: readonly OwnershipConflict[]): string {
  const list = (ids: string[]) => (ids.length > 3 ? `${ids.slice(0, 3).join(', ')} and ${ids.length - 3} more` : ids.join(', '))
  const parts = conflicts.map(c => `rollout ${c.name} already targets ${c.devices.length === 1 ? 'device' : 'devices'} ${list(c.devices)}`)
  return `${parts.join('; ')} — a device runs one rollout of ${appId}, so rollout ${name} cannot reach ${conflicts.length === 1 && conflicts[0]!.devices.length === 1 ? 'it' : 'them'}: change that rollout's target (or margo undeploy ${conflicts[0]!.name}) first, or deploy to other devices`
}
