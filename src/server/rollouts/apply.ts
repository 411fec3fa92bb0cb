/**
 * What the rollout service and the wave controller share: device and app facts as the planner
 * wants them, a device's present deployments of an app, and writing one decision.
 */
import {YAML_MEDIA_TYPE} from '../../margo/media-types.ts'
import {NotFoundError} from '../../util/errors.ts'
import {findAppVersion} from '../catalog/catalog-service.ts'
import {deviceView} from '../deployments/deployment-service.ts'
import type {EventBus} from '../events.ts'
import type {ClientRecord, DeploymentRecord, Store} from '../store/store.ts'
import {appRolloutLinks, getRollout, linkDeployment, rolloutLinks, type RolloutRecord} from '../store/rollouts-repo.ts'
import {readStoredJson} from '../../margo/limits.ts'
import type {AppFacts, Decision, DeviceFacts, ExistingDeployment} from './plan.ts'

export type Events = Pick<EventBus, 'emit'>

export function facts(client: ClientRecord): DeviceFacts {
  const capabilities = client.capabilitiesJson ? readStoredJson(client.capabilitiesJson) ?? null : null
  return {clientId: client.clientId, enrollment: client.enrollment, labels: client.labels, view: deviceView(client), capabilities}
}

export function appFacts(store: Store, appId: string, version: string | null): AppFacts | {error: string} {
  try {
    const {record, description} = findAppVersion(store, appId, version ?? undefined)
    return {appId: record.appId, version: record.version, description}
  } catch (err) {
    if (err instanceof NotFoundError) return {error: err.message}
    throw err
  }
}

/** Deployments with the rollout that owns each (and its name, read once per rollout). */
function withOwners(store: Store, deployments: DeploymentRecord[], links: Map<string, string | null>): ExistingDeployment[] {
  const names = new Map<string, string | undefined>()
  return deployments.map(deployment => {
    const rolloutId = links.get(deployment.deploymentId) ?? null
    if (rolloutId && !names.has(rolloutId)) names.set(rolloutId, getRollout(store, rolloutId)?.name)
    const name = rolloutId ? names.get(rolloutId) : undefined
    return {deployment, rolloutId, ...(name ? {rolloutName: name} : {})}
  })
}

export function existingOf(store: Store, clientId: string, appId: string): ExistingDeployment[] {
  return withOwners(store, store.listDeployments({clientId, appId, desired: 'present'}), rolloutLinks(store, clientId))
}

/**
 * `existingOf` for every device at once: the app's present deployments in two reads, for the
 * loops that plan a rollout over a whole fleet (two queries per device cost seconds at ten
 * thousand devices, more on PostgreSQL where each is a round trip). Only for loops that read:
 * a decision written meanwhile is not seen.
 */
export function existingForApp(store: Store, appId: string): (clientId: string) => ExistingDeployment[] {
  const byClient = new Map<string, ExistingDeployment[]>()
  for (const entry of withOwners(store, store.listDeployments({appId, desired: 'present'}), appRolloutLinks(store, appId))) {
    const list = byClient.get(entry.deployment.clientId)
    if (list) list.push(entry)
    else byClient.set(entry.deployment.clientId, [entry])
  }
  return clientId => byClient.get(clientId) ?? []
}

/** Writes one decision; returns the deployment it changed, if any. Runs in the caller's transaction. */
export function apply(store: Store, rolloutId: string, d: Decision, now: string): DeploymentRecord | null {
  switch (d.action) {
    case 'create':
      store.putArtifact(d.record.digest, YAML_MEDIA_TYPE, d.bytes, now)
      store.insertDeployment(d.record)
      linkDeployment(store, d.record.deploymentId, rolloutId)
      return d.record
    case 'update':
      store.putArtifact(d.record.digest, YAML_MEDIA_TYPE, d.bytes, now)
      store.updateDeployment(d.record)
      if (d.relink) linkDeployment(store, d.record.deploymentId, rolloutId)
      return d.record
    case 'unchanged':
      if (d.relink) linkDeployment(store, d.current.deploymentId, rolloutId)
      return null
    case 'remove': {
      const removed: DeploymentRecord = {...d.current, desired: 'absent', updatedAt: now}
      store.updateDeployment(removed)
      return removed
    }
    default:
      return null
  }
}

export function announce(events: Events, changed: DeploymentRecord[]) {
  for (const d of changed) events.emit({type: 'deployment.changed', deploymentId: d.deploymentId, clientId: d.clientId})
}

export function candidates(store: Store, rollout: RolloutRecord): ClientRecord[] {
  if (rollout.selector !== null) return store.listClients()
  return rollout.devices.map(id => store.getClient(id)).filter((c): c is ClientRecord => c !== null)
}

