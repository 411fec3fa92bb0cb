import {parseCapabilities} from '../../margo/capabilities.ts'
import {sha256Digest} from '../../margo/digest.ts'
import {readStoredJson} from '../../margo/limits.ts'
import {YAML_MEDIA_TYPE} from '../../margo/media-types.ts'
import {findAppVersion} from '../catalog/catalog-service.ts'
import type {ApplicationDescription} from '../../margo/package/description.ts'
import {NO_SECRETS, resolveWithSecrets, type SecretReader} from '../secrets/resolve.ts'
import {chooseProfile} from '../catalog/profiles.ts'
import {publishManifest} from '../desired-state/publish.ts'
import {conflict, invalid, invalidParameters, notFound} from '../domain-errors.ts'
import type {EventBus} from '../events.ts'
import type {ClientRecord, DeploymentRecord, Store} from '../store/store.ts'
import {buildApplicationDeployment} from './build.ts'
import {newDeploymentId} from './ids.ts'

export interface DeploymentDeps {
  store: Store
  events: Pick<EventBus, 'emit'>
  now: () => Date
  /** Reads the secrets values refer to as `${secret:NAME}` (none when absent). */
  secrets?: SecretReader
}

/**
 * What a deployment's values column holds: what the operator set, and what that resolved to.
 * Both keep secret references as written; only the rendered YAML holds their values.
 */
export interface StoredValues {
  user: Record<string, unknown>
  resolved: Record<string, unknown>
}

export const readValues = (d: DeploymentRecord): StoredValues => JSON.parse(d.valuesJson) as StoredValues

/** What the device reported, as profile matching reads it; null until it reports (or if unreadable). */
export function deviceView(client: ClientRecord) {
  if (!client.capabilitiesJson) return null
  const stored = readStoredJson(client.capabilitiesJson)
  if (stored === undefined) return null
  const parsed = parseCapabilities(stored)
  return parsed.ok ? parsed.value : null
}

function requireClient(store: Pick<Store, 'getClient'>, clientId: string): ClientRecord {
  const client = store.getClient(clientId)
  if (!client) throw notFound('device', clientId, 'run: margo device list')
  if (client.enrollment === 'revoked') throw conflict(`device ${clientId} is revoked; it can no longer receive deployments`, 'device_revoked')
  return client
}

function render(description: ApplicationDescription, profile: ApplicationDescription['deploymentProfiles'][number], deploymentId: string, values: Record<string, unknown>) {
  const built = buildApplicationDeployment({description, profile, deploymentId, values: values as never})
  return {bytes: built.bytes, digest: sha256Digest(built.bytes)}
}

export interface CreateDeploymentInput {
  appId: string
  version?: string
  clientId: string
  profile?: string
  values?: Record<string, unknown>
}

export interface DeploymentPatch {
  version?: string
  values?: Record<string, unknown>
}

/** Assign an application to a device: pick the profile, resolve and validate values, write the YAML and a new manifest. */
export function createDeployment({store, events, now: clock, secrets = NO_SECRETS}: DeploymentDeps, input: CreateDeploymentInput): DeploymentRecord {
  const now = clock().toISOString()
  const client = requireClient(store, input.clientId)
  const {record, description} = findAppVersion(store, input.appId, input.version)
  // A named profile is the operator's explicit choice and overrides the device's reported types.
  const chosen = chooseProfile(description, input.profile ? null : deviceView(client), input.profile)
  if (!chosen.ok) {
    throw invalid('profile_unavailable', `no deployment profile of ${record.appId}@${record.version} fits device ${client.clientId}: ${chosen.reasons.join('; ')}`,
      chosen.reasons.map(r => ({path: 'profile', message: r})))
  }
  const user = input.values ?? {}
  const resolved = resolveWithSecrets(description, user, secrets)
  if (!resolved.ok) throw invalidParameters(resolved.errors)

  const deploymentId = newDeploymentId()
  const artifact = render(description, chosen.profile, deploymentId, resolved.rendered)
  const deployment: DeploymentRecord = {
    deploymentId,
    clientId: client.clientId,
    appId: record.appId,
    appVersion: record.version,
    profileId: chosen.profile.id,
    profileType: chosen.profile.type,
    valuesJson: JSON.stringify({user, resolved: resolved.stored} satisfies StoredValues),
    digest: artifact.digest,
    desired: 'present',
    createdAt: now,
    updatedAt: now,
  }
  store.transaction(() => {
    store.putArtifact(artifact.digest, YAML_MEDIA_TYPE, artifact.bytes, now)
    store.insertDeployment(deployment)
    publishManifest(store, client.clientId, now)
  })
  events.emit({type: 'deployment.changed', deploymentId, clientId: client.clientId})
  return deployment
}

/**
 * Change an existing deployment's app version or values in place: same deploymentId, new
 * YAML and digest. Immutable settings keep the value they were installed with.
 */
export function updateDeployment({store, events, now: clock, secrets = NO_SECRETS}: DeploymentDeps, deploymentId: string, patch: DeploymentPatch): DeploymentRecord {
  const now = clock().toISOString()
  const current = store.getDeployment(deploymentId)
  if (!current) throw notFound('deployment', deploymentId, 'run: margo status')
  if (current.desired === 'absent') throw conflict(`deployment ${deploymentId} was removed; deploy the app again instead`)
  const client = requireClient(store, current.clientId)
  const {record, description} = findAppVersion(store, current.appId, patch.version ?? current.appVersion)
  const sameProfile = description.deploymentProfiles.find(p => p.id === current.profileId)
  const chosen = sameProfile ? {ok: true as const, profile: sameProfile} : chooseProfile(description, deviceView(client), current.profileType)
  if (!chosen.ok) throw invalid('profile_unavailable', `${record.appId}@${record.version} has no ${current.profileType} profile for this device: ${chosen.reasons.join('; ')}`)

  const previous = readValues(current)
  const user = {...previous.user, ...(patch.values ?? {})}
  const resolved = resolveWithSecrets(description, user, secrets, {values: previous.resolved, applied: true})
  if (!resolved.ok) throw invalidParameters(resolved.errors)
  const artifact = render(description, chosen.profile, deploymentId, resolved.rendered)
  const updated: DeploymentRecord = {
    ...current,
    appVersion: record.version,
    profileId: chosen.profile.id,
    profileType: chosen.profile.type,
    valuesJson: JSON.stringify({user, resolved: resolved.stored} satisfies StoredValues),
    digest: artifact.digest,
    updatedAt: now,
  }
  store.transaction(() => {
    store.putArtifact(artifact.digest, YAML_MEDIA_TYPE, artifact.bytes, now)
    store.updateDeployment(updated)
    publishManifest(store, current.clientId, now)
  })
  events.emit({type: 'deployment.changed', deploymentId, clientId: current.clientId})
  return updated
}

/** Remove a deployment from the device's desired state; the device then reports removing → removed. */
export function deleteDeployment({store, events, now: clock}: DeploymentDeps, deploymentId: string): DeploymentRecord {
  const now = clock().toISOString()
  const current = store.getDeployment(deploymentId)
  if (!current) throw notFound('deployment', deploymentId, 'run: margo status')
  if (current.desired === 'absent') return current
  const updated: DeploymentRecord = {...current, desired: 'absent', updatedAt: now}
  store.transaction(() => {
    store.updateDeployment(updated)
    publishManifest(store, current.clientId, now)
  })
  events.emit({type: 'deployment.changed', deploymentId, clientId: current.clientId})
  return updated
}

/** Deployments as the server uses them, bound to their dependencies once. */
export function createDeploymentService(deps: DeploymentDeps) {
  return {
    create: (input: CreateDeploymentInput) => createDeployment(deps, input),
    update: (deploymentId: string, patch: DeploymentPatch) => updateDeployment(deps, deploymentId, patch),
    remove: (deploymentId: string) => deleteDeployment(deps, deploymentId),
  }
}

export type DeploymentService = ReturnType<typeof createDeploymentService>
