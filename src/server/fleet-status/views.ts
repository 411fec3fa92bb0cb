import {livenessOf, type LivenessThresholds} from '../../operator-contract/liveness.ts'
import type {
  ComponentView, DeploymentStatusView, DeviceLivenessView, FailedDeploymentView, FleetOverview, LastError, LivenessThresholdsView,
  StatusErrorInfo, StatusTimelineEntry, TargetKind, TargetStatus,
} from '../../operator-contract/views.ts'

/**
 * The status views of the operator API (`GET /status`, `GET /status/{id}`) in the shapes of the
 * operator contract, built from plain records so the rules (what counts, what is listed, which
 * error is "the last") are tested without a database.
 */

export interface ClientInput {
  clientId: string
  enrollment: 'pending' | 'active' | 'revoked'
  lastSeenAt: string | null
  labels: Record<string, string>
}

export interface DeploymentInput {
  deploymentId: string
  clientId: string
  appId: string
  appVersion: string
  profileId: string
  profileType: string
  digest: string
  desired: 'present' | 'absent'
  createdAt: string
  updatedAt: string
  /** Dropped by the operator without the device confirming the removal. */
  forgottenAt?: string | null
}

/** The state a view shows for a removal the operator recorded without the device's report. */
export const REMOVED_UNCONFIRMED = 'removed-unconfirmed'

/** The reported state, unless the operator forgot the deployment before the device said `removed`. */
function shownState(d: Pick<DeploymentInput, 'forgottenAt'>, reported: string | undefined): string {
  if (d.forgottenAt && reported !== 'removed') return REMOVED_UNCONFIRMED
  return reported ?? 'unreported'
}

export interface ReportInput {
  state: string
  errorJson: string | null
  componentsJson: string
  receivedAt: string
  /** A run of identical reports is one row: how many, and when the last came. */
  repeatCount?: number
  lastReceivedAt?: string | null
}

export interface ViewClock {
  now: Date
  thresholds: LivenessThresholds
  /** Last-seen times not yet flushed to the store. */
  pendingSeen?: Map<string, string>
}

/**
 * The freshest of the stored last-seen time and the one still waiting in memory for the
 * periodic flush (both ISO 8601 UTC, so they compare as strings).
 */
export function freshestSeen(stored: string | null | undefined, pending: string | null | undefined): string | null {
  if (!stored) return pending ?? null
  if (!pending) return stored
  return pending > stored ? pending : stored
}

const thresholdsView = (t: LivenessThresholds): LivenessThresholdsView => ({staleAfterSeconds: Math.round(t.staleAfterMs / 1000), offlineAfterSeconds: Math.round(t.offlineAfterMs / 1000)})

export function deviceLiveness(c: ClientInput, clock: ViewClock): DeviceLivenessView {
  const lastSeenAt = freshestSeen(c.lastSeenAt, clock.pendingSeen?.get(c.clientId))
  return {clientId: c.clientId, enrollment: c.enrollment, liveness: livenessOf(lastSeenAt, clock.now, clock.thresholds), lastSeenAt, labels: c.labels}
}

/** Reported errors are `{code, message}`; anything else (or an empty one) counts as no error. */
function readError(v: unknown): StatusErrorInfo | null {
  if (!v || typeof v !== 'object') return null
  const {code, message} = v as Record<string, unknown>
  const out: StatusErrorInfo = {}
  if (typeof code === 'string' && code) out.code = code
  if (typeof message === 'string' && message) out.message = message
  return out.code || out.message ? out : null
}

function parseJson(text: string | null): unknown {
  if (!text) return null
  try { return JSON.parse(text) } catch { return null }
}

function readComponents(json: string): ComponentView[] {
  const v = parseJson(json)
  if (!Array.isArray(v)) return []
  return v.filter((c): c is Record<string, unknown> => !!c && typeof c === 'object')
    .map(c => ({name: String(c.name ?? ''), state: String(c.state ?? ''), error: readError(c.error)}))
}

export function timelineEntry(r: ReportInput): StatusTimelineEntry {
  const entry: StatusTimelineEntry = {at: r.receivedAt, state: r.state, error: readError(parseJson(r.errorJson)), components: readComponents(r.componentsJson)}
  if ((r.repeatCount ?? 1) > 1) {
    entry.count = r.repeatCount
    entry.lastAt = r.lastReceivedAt ?? r.receivedAt
  }
  return entry
}

/**
 * Whether a deployment belongs in the overview's counts: wanted ones always; removed ones
 * while their removal is still under way (a report exists and is not yet `removed`).
 */
export function countsInOverview(d: Pick<DeploymentInput, 'desired' | 'forgottenAt'>, latestState: string | undefined): boolean {
  if (d.desired === 'present') return true
  if (d.forgottenAt) return false
  return latestState !== undefined && latestState !== 'removed'
}

/** The most recent error in a timeline, from the report itself or from one of its components. */
export function lastErrorOf(timeline: readonly StatusTimelineEntry[]): LastError | null {
  for (let i = timeline.length - 1; i >= 0; i--) {
    const e = timeline[i]!
    if (e.error) return {at: e.at, state: e.state, ...e.error}
    const failed = e.components.find(c => c.error)
    if (failed) return {at: e.at, state: failed.state, component: failed.name, ...failed.error}
  }
  return null
}

const newestSeenFirst = (a: DeviceLivenessView, b: DeviceLivenessView) =>
  (b.lastSeenAt ?? '').localeCompare(a.lastSeenAt ?? '') || a.clientId.localeCompare(b.clientId)

export function buildOverview(clients: readonly ClientInput[], deployments: readonly DeploymentInput[], latest: ReadonlyMap<string, ReportInput>, clock: ViewClock): FleetOverview {
  const devices = {total: clients.length, online: 0, stale: 0, offline: 0, active: 0, pending: 0, revoked: 0}
  const staleOrOffline: DeviceLivenessView[] = []
  for (const c of clients) {
    devices[c.enrollment]++
    // Pending and revoked devices cannot make a request that counts, so liveness is only
    // meaningful for active ones.
    if (c.enrollment !== 'active') continue
    const view = deviceLiveness(c, clock)
    devices[view.liveness]++
    if (view.liveness !== 'online') staleOrOffline.push(view)
  }

  const byState: Record<string, number> = {}
  const failed: FailedDeploymentView[] = []
  let total = 0
  for (const d of deployments) {
    const report = latest.get(d.deploymentId)
    if (!countsInOverview(d, report?.state)) continue
    total++
    const state = report?.state ?? 'unreported'
    byState[state] = (byState[state] ?? 0) + 1
    if (report && state === 'failed') {
      const entry = timelineEntry(report)
      const error = entry.error ?? entry.components.find(c => c.error)?.error ?? null
      failed.push({deploymentId: d.deploymentId, clientId: d.clientId, appId: d.appId, appVersion: d.appVersion, error, reportedAt: report.lastReceivedAt ?? report.receivedAt})
    }
  }
  failed.sort((a, b) => b.reportedAt.localeCompare(a.reportedAt) || a.deploymentId.localeCompare(b.deploymentId))

  return {
    generatedAt: clock.now.toISOString(),
    thresholds: thresholdsView(clock.thresholds),
    devices,
    deployments: {total, byState},
    failedDeployments: failed,
    staleOrOfflineDevices: staleOrOffline.sort(newestSeenFirst),
  }
}

export function deploymentStatusView(d: DeploymentInput, timeline: readonly ReportInput[]): DeploymentStatusView {
  const entries = timeline.map(timelineEntry)
  const latest = entries.at(-1)
  return {
    deploymentId: d.deploymentId,
    clientId: d.clientId,
    appId: d.appId,
    appVersion: d.appVersion,
    profile: {id: d.profileId, type: d.profileType},
    desired: d.desired,
    digest: d.digest,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    state: shownState(d, latest?.state),
    reportedAt: latest?.lastAt ?? latest?.at ?? null,
    error: latest?.error ?? null,
    components: latest?.components ?? [],
    lastError: lastErrorOf(entries),
    timeline: entries,
  }
}

export function buildTargetStatus(
  id: string,
  kind: TargetKind,
  clients: readonly ClientInput[],
  deployments: readonly {deployment: DeploymentInput, timeline: readonly ReportInput[]}[],
  clock: ViewClock,
): TargetStatus {
  return {
    id,
    kind,
    generatedAt: clock.now.toISOString(),
    thresholds: thresholdsView(clock.thresholds),
    devices: clients.map(c => deviceLiveness(c, clock)),
    deployments: deployments.map(x => deploymentStatusView(x.deployment, x.timeline)),
  }
}
