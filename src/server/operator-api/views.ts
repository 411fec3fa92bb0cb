import type {ClientRecord, DeploymentRecord, StatusReportRecord, Store} from '../store/store.ts'
import {readValues} from '../deployments/deployment-service.ts'
import {latestVersion} from '../catalog/versions.ts'
import type {ApplicationDescription} from '../../margo/package/description.ts'
import type {App, AppSummary, ComponentStatus, Deployment, DeploymentState, DeploymentStatus, DeploymentWithTimeline, Device, DeviceCapabilities, StatusError, TimelineEntry} from '../../operator-contract/views.ts'
import {readStoredJson} from '../../margo/limits.ts'
import {showReferences} from '../secrets/references.ts'

/** Records as the operator API shows them (docs/operator-api.md), in the shapes of the operator contract. */

/**
 * A device as listed. Whatever a device stored earlier, the view is built: a stored document
 * that cannot be read back (not JSON, or beyond the limits of src/margo/limits.ts) shows as
 * null and is named in `unreadable`, so one device never breaks the fleet's list.
 */
export function deviceJson(c: ClientRecord): Device {
  const unreadable = [...(c.unreadable ?? [])]
  let capabilities: DeviceCapabilities | null = null
  if (c.capabilitiesJson) {
    capabilities = (readStoredJson(c.capabilitiesJson) as DeviceCapabilities | undefined) ?? null
    if (capabilities === null) unreadable.unshift('capabilities')
  }
  return {
    clientId: c.clientId,
    enrollment: c.enrollment,
    certificate: {fingerprint: c.fingerprint, subject: c.subject, keyType: c.keyType, notAfter: c.notAfter},
    onboardedAt: c.onboardedAt,
    lastSeenAt: c.lastSeenAt,
    capabilities,
    capabilitiesUpdatedAt: c.capabilitiesAt,
    manifestVersion: c.manifestVersion,
    labels: c.labels,
    ...(unreadable.length > 0 && {unreadable}),
    ...(c.tombstone ? {tombstone: {reason: c.tombstone, at: c.tombstoneAt ?? c.onboardedAt, replacedBy: c.replacedBy ?? null, reonboardAllowed: c.reonboardAllowed === 1}} : {}),
  }
}

/** Whether a device is part of the fleet view: tombstones (rejected, deleted, replaced) are records only. */
export const inFleet = (c: Pick<ClientRecord, 'tombstone'>) => !c.tombstone

/** Stored report columns, read without throwing: a row that cannot be read shows as null. */
const parseOr = (json: string | null) => (json ? readStoredJson(json) ?? null : null)
const repeats = (r: StatusReportRecord) => (r.repeatCount > 1 ? {count: r.repeatCount, lastAt: r.lastReceivedAt ?? r.receivedAt} : {})

/**
 * A stored report. Its state, error and components were validated as a Margo
 * DeploymentStatusManifest before they were stored (src/margo/status.ts), so they are read back
 * as such; a row that cannot be read back (stored before the limits) shows empty instead.
 */
function reportJson(r: StatusReportRecord): {state: DeploymentState, error: StatusError | null, components: ComponentStatus[]} {
  const components = parseOr(r.componentsJson)
  return {state: r.state as DeploymentState, error: parseOr(r.errorJson) as StatusError | null, components: Array.isArray(components) ? components : []}
}

function statusJson(r: StatusReportRecord | null): DeploymentStatus | null {
  if (!r) return null
  return {...reportJson(r), reportedAt: r.lastReceivedAt ?? r.receivedAt, ...repeats(r)}
}

const timelineEntryJson = (r: StatusReportRecord): TimelineEntry => ({at: r.receivedAt, ...reportJson(r), ...repeats(r)})

export function deploymentJson(store: Store, d: DeploymentRecord): Deployment
export function deploymentJson(store: Store, d: DeploymentRecord, withTimeline: true): DeploymentWithTimeline
export function deploymentJson(store: Store, d: DeploymentRecord, withTimeline = false): Deployment | DeploymentWithTimeline {
  const values = readValues(d)
  const out: Deployment = {
    deploymentId: d.deploymentId,
    clientId: d.clientId,
    appId: d.appId,
    appVersion: d.appVersion,
    profile: {id: d.profileId, type: d.profileType},
    // Secret references show as <secret:NAME>; the value is only ever in the device's YAML.
    values: showReferences(values.resolved),
    digest: d.digest,
    desired: d.desired,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    status: statusJson(store.latestStatus(d.deploymentId)),
    ...(d.forgottenAt ? {removedUnconfirmedAt: d.forgottenAt} : {}),
  }
  if (!withTimeline) return out
  return {...out, timeline: store.statusTimeline(d.deploymentId).map(timelineEntryJson)}
}

export function appJson(store: Store, appId: string, version?: string): App
export function appJson(store: Store, appId: string, version: string | undefined, withDescription: false): AppSummary
export function appJson(store: Store, appId: string, version?: string, withDescription = true): App | AppSummary {
  const versions = store.listAppVersions(appId)
  const latest = latestVersion(versions.map(v => v.version))!
  const shown = versions.find(v => v.version === (version ?? latest)) ?? versions.at(-1)!
  const out: AppSummary = {
    appId,
    name: shown.name,
    latestVersion: latest,
    versions: versions.map(v => {
      const description = JSON.parse(v.descriptionJson) as ApplicationDescription
      return {version: v.version, publishedAt: v.publishedAt, profiles: description.deploymentProfiles.map(p => ({id: p.id, type: p.type}))}
    }),
  }
  if (!withDescription) return out
  // Typed, so the catalog's description must still read as the contract's looser shape.
  const description: ApplicationDescription = JSON.parse(shown.descriptionJson)
  return {...out, description}
}
