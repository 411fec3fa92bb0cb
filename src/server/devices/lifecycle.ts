/**
 * Enrollment decisions past approve and revoke: reject a pending device, delete (decommission)
 * one, replace one with another. Each keeps the old device as a tombstone: revoked, so its next
 * signed request is refused, and its certificate cannot onboard again unless an operator allows
 * it. Every change to enrollment goes through the Store, which forgets the cached credential.
 * Callers run these inside their own transaction when an audit entry must commit with them.
 */
import {conflict, notFound} from '../domain-errors.ts'
import {publishManifest} from '../desired-state/publish.ts'
import type {EventBus} from '../events.ts'
import type {RolloutService} from '../rollouts/rollout-service.ts'
import {forgetDeployment} from '../store/rollouts-repo.ts'
import type {ClientRecord, DeploymentRecord, Store} from '../store/store.ts'

export interface LifecycleDeps {
  store: Store
  events: Pick<EventBus, 'emit'>
  now: () => Date
}

const requireClient = (store: Store, clientId: string): ClientRecord => {
  const c = store.getClient(clientId)
  if (!c) throw notFound('device', clientId, 'run: margo device list --all')
  return c
}

/** A pending device is refused for good: its certificate cannot onboard again. */
export function rejectDevice({store, now}: LifecycleDeps, clientId: string): ClientRecord {
  const c = requireClient(store, clientId)
  if (c.enrollment !== 'pending') {
    throw conflict(`device ${clientId} is ${c.tombstone ?? c.enrollment}, not pending; only a pending device can be rejected — use margo device revoke or margo device delete`, 'not_pending')
  }
  store.transaction(() => store.setTombstone(clientId, {tombstone: 'rejected', at: now().toISOString()}))
  return store.getClient(clientId)!
}

/** Its deployments leave the fleet view: removed, and recorded as removed-unconfirmed (the device will not report again). */
function dropDeployments(store: Store, clientId: string, at: string): DeploymentRecord[] {
  const present = store.listDeployments({clientId, desired: 'present'})
  for (const d of present) store.updateDeployment({...d, desired: 'absent', updatedAt: at})
  for (const d of store.listDeployments({clientId, desired: 'absent'})) {
    if (!d.forgottenAt && store.latestStatus(d.deploymentId)?.state !== 'removed') forgetDeployment(store, d.deploymentId, at)
  }
  if (present.length > 0) publishManifest(store, clientId, at)
  return present
}

function decommission(store: Store, clientId: string, at: string, t: {tombstone: 'deleted' | 'replaced', replacedBy?: string, reonboardAllowed?: boolean}) {
  const dropped = dropDeployments(store, clientId, at)
  // Labels go too: a tombstone must not stay in any selector's reach.
  store.setLabels(clientId, {})
  store.setTombstone(clientId, {...t, at})
  return dropped
}

/**
 * Decommissions a device: revoked, deployments out of the fleet view, labels cleared, kept as a
 * tombstone. With `allowReonboard` its certificate may onboard again (same clientId, enrolled as a
 * new device would be). Deleting a tombstone again only changes that permission.
 */
export function deleteDevice({store, events, now}: LifecycleDeps, clientId: string, options: {allowReonboard?: boolean} = {}): ClientRecord {
  const c = requireClient(store, clientId)
  const at = now().toISOString()
  let dropped: DeploymentRecord[] = []
  store.transaction(() => {
    if (c.tombstone) store.setTombstone(clientId, {tombstone: c.tombstone, at: c.tombstoneAt ?? at, replacedBy: c.replacedBy ?? null, reonboardAllowed: options.allowReonboard === true})
    else dropped = decommission(store, clientId, at, {tombstone: 'deleted', reonboardAllowed: options.allowReonboard === true})
  })
  for (const d of dropped) events.emit({type: 'deployment.changed', deploymentId: d.deploymentId, clientId})
  events.emit({type: 'device.updated', clientId})
  return store.getClient(clientId)!
}

export interface Replacement {
  old: ClientRecord
  new: ClientRecord
  /** Rollouts that listed the old device and list the new one now, at their new revision. */
  rollouts: {name: string, revision: number}[]
  /** Labels the new device took over. */
  labels: Record<string, string>
  /** Whether the replacement approved the new device (it was pending). */
  approved: boolean
}

/**
 * A hardware swap: the new device takes over the old one's labels (so selector rollouts follow)
 * and its place in every rollout that lists it (a new revision each); a pending new device is
 * approved. The old one is decommissioned as `replaced`. Rollout changes are checked before
 * anything is written; the device records then change in one transaction.
 */
export function replaceDevice(deps: LifecycleDeps & {rollouts: RolloutService}, oldId: string, newId: string, options: {actor?: string, audit?: (r: Omit<Replacement, 'old' | 'new'>) => void} = {}): Replacement {
  const {store, events, now, rollouts} = deps
  if (oldId === newId) throw conflict('a device cannot replace itself', 'same_device')
  const old = requireClient(store, oldId)
  const next = requireClient(store, newId)
  if (old.tombstone) throw conflict(`device ${oldId} is already ${old.tombstone}`, 'device_tombstone')
  if (next.enrollment === 'revoked') throw conflict(`device ${newId} is revoked; the replacement must be pending or active`, 'device_revoked')
  const listed = rollouts.replaceListedDevice(oldId, newId, options.actor ? {actor: options.actor} : {})
  const labels = {...next.labels, ...old.labels}
  const approved = next.enrollment === 'pending'
  const at = now().toISOString()
  let dropped: DeploymentRecord[] = []
  store.transaction(() => {
    store.setLabels(newId, Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))))
    if (approved) store.setEnrollment(newId, 'active')
    dropped = decommission(store, oldId, at, {tombstone: 'replaced', replacedBy: newId})
    options.audit?.({rollouts: listed, labels: old.labels, approved})
  })
  for (const d of dropped) events.emit({type: 'deployment.changed', deploymentId: d.deploymentId, clientId: oldId})
  events.emit({type: 'device.updated', clientId: oldId})
  // Selector rollouts now match the new device: bring it in line at once, not on the next event.
  rollouts.reconcileDevice(newId)
  events.emit({type: 'device.updated', clientId: newId})
  return {old: store.getClient(oldId)!, new: store.getClient(newId)!, rollouts: listed, labels: old.labels, approved}
}
