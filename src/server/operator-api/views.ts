import type {ClientRecord, DeploymentRecord, StatusReportRecord, Store} from '../store/store.ts'
import {readValues} from '../deployments/deployment-service.ts'
import {latestVersion} from '../catalog/versions.ts'
import type {ApplicationDescription} from '../../margo/package/description.ts'

/** Records as the operator API shows them (docs/operator-api.md). */

export function deviceJson(c: ClientRecord) {
  return {
    clientId: c.clientId,
    enrollment: c.enrollment,
    certificate: {fingerprint: c.fingerprint, subject: c.subject, keyType: c.keyType, notAfter: c.notAfter},
    onboardedAt: c.onboardedAt,
    lastSeenAt: c.lastSeenAt,
    capabilities: c.capabilitiesJson ? JSON.parse(c.capabilitiesJson) : null,
    capabilitiesUpdatedAt: c.capabilitiesAt,
    manifestVersion: c.manifestVersion,
    labels: c.labels,
  }
}

const parseOr = (json: string | null) => (json ? JSON.parse(json) : null)

function statusJson(r: StatusReportRecord | null) {
  if (!r) return null
  return {state: r.state, error: parseOr(r.errorJson), components: JSON.parse(r.componentsJson), reportedAt: r.receivedAt}
}

export function deploymentJson(store: Store, d: DeploymentRecord, withTimeline = false) {
  const values = readValues(d)
  const out: Record<string, unknown> = {
    deploymentId: d.deploymentId,
    clientId: d.clientId,
    appId: d.appId,
    appVersion: d.appVersion,
    profile: {id: d.profileId, type: d.profileType},
    values: values.resolved,
    digest: d.digest,
    desired: d.desired,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    status: statusJson(store.latestStatus(d.deploymentId)),
  }
  if (withTimeline) {
    out.timeline = store.statusTimeline(d.deploymentId).map(r => ({at: r.receivedAt, state: r.state, error: parseOr(r.errorJson), components: JSON.parse(r.componentsJson)}))
  }
  return out
}

export function appJson(store: Store, appId: string, version?: string, withDescription = true) {
  const versions = store.listAppVersions(appId)
  const latest = latestVersion(versions.map(v => v.version))!
  const shown = versions.find(v => v.version === (version ?? latest)) ?? versions.at(-1)!
  const out: Record<string, unknown> = {
    appId,
    name: shown.name,
    latestVersion: latest,
    versions: versions.map(v => {
      const description = JSON.parse(v.descriptionJson) as ApplicationDescription
      return {version: v.version, publishedAt: v.publishedAt, profiles: description.deploymentProfiles.map(p => ({id: p.id, type: p.type}))}
    }),
  }
  if (withDescription) out.description = JSON.parse(shown.descriptionJson)
  return out
}
