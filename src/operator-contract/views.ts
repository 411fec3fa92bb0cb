/**
 * What the operator API (`/operator/v1`) sends, for the server that builds it and the clients
 * that read it: camelCase fields, ISO 8601 UTC timestamps. An app's ApplicationDescription is the
 * Margo package vocabulary's own type (the server validated it); what devices report
 * (capabilities) stays loosely typed, as stored records may predate today's validation.
 */
import type {ApplicationDescription} from '../margo/package/types.ts'
import type {ComponentStatus, DeploymentState, StatusError} from '../margo/status.ts'
import type {Liveness} from './liveness.ts'
import type {RolloutProgress, SetForRequest, Strategy} from './strategy.ts'

/** Deployment states, reported errors and components are relayed as the device reported them (validated). */
export type {ComponentStatus, DeploymentState, Liveness, StatusError}

export type Enrollment = 'pending' | 'active' | 'revoked'
export type EnrollmentMode = 'auto' | 'approve' | 'allowlist'
export type ProfileType = 'helm.v3' | 'compose' | (string & {})
export type Desired = 'present' | 'absent'

export interface Health {
  version: string
  uptimeSeconds: number
  enrollment: EnrollmentMode
  deviceApiUrl: string
  /** `sha256:<hex>` of the root CA's DER: what devices pin (`margo device enroll-command` writes it into its line). */
  caFingerprint: string | null
}

export interface DeviceCertificate {
  /** `sha256:<hex of DER>` */
  fingerprint: string
  subject: string
  keyType: string
  notAfter: string
}

/** The DeviceCapabilitiesManifest as the device reported it. */
export interface DeviceCapabilities {
  apiVersion?: string
  kind?: string
  properties?: {
    id?: string
    vendor?: string
    modelNumber?: string
    serialNumber?: string
    roles?: string[]
    resources?: {
      cpu?: {cores?: number; architecture?: string | string[]; architectures?: string[]}
      memory?: string
      storage?: string
      peripherals?: {type: string; manufacturer?: string; model?: string}[]
      interfaces?: {type: string}[]
    }
    [key: string]: unknown
  }
  [key: string]: unknown
}

export interface Device {
  clientId: string
  enrollment: Enrollment
  certificate: DeviceCertificate
  onboardedAt: string
  lastSeenAt: string | null
  capabilities: DeviceCapabilities | null
  capabilitiesUpdatedAt: string | null
  manifestVersion: number
  labels: Record<string, string>
  /** Stored fields the server could not read back (e.g. `capabilities`); they show as empty. */
  unreadable?: string[]
  /**
   * Present when the device was rejected, deleted or replaced: it is kept only as a record
   * (enrollment `revoked`) so its certificate cannot onboard again unless `reonboardAllowed`.
   */
  tombstone?: DeviceTombstone
}

export interface DeviceTombstone {
  reason: 'rejected' | 'deleted' | 'replaced'
  at: string
  /** The device that took over, for `replaced`. */
  replacedBy: string | null
  reonboardAllowed: boolean
}

/** What `margo device replace` did. */
export interface DeviceReplacement {
  old: Device
  new: Device
  /** Rollouts that listed the old device and list the new one now, at their new revision. */
  rollouts: {name: string, revision: number}[]
  labels: Record<string, string>
  approved: boolean
}

export interface DeviceWithDeployments extends Device {
  deployments: Deployment[]
}

export interface ProfileRef {
  id: string
  type: ProfileType
}

export interface AppVersion {
  version: string
  publishedAt: string
  profiles: ProfileRef[]
}

/**
 * An app version's ApplicationDescription as the server validated and stored it: the Margo
 * package vocabulary's own types, so the client reads exactly what the server checked.
 */
export type {
  ApplicationDescription, Parameter as ApplicationParameter, SchemaRule, Setting as ApplicationSetting,
} from '../margo/package/types.ts'

export interface AppSummary {
  appId: string
  name: string
  latestVersion: string
  versions: AppVersion[]
}

export interface App extends AppSummary {
  description: ApplicationDescription
}

/** The device's latest report. */
export interface DeploymentStatus {
  state: DeploymentState
  /** null when the report carried no error. */
  error: StatusError | null
  components: ComponentStatus[]
  /** When the latest report came (the last of a run of identical ones). */
  reportedAt: string
  /** Present when the same report came more than once in a row: how often, and the last time. */
  count?: number
  lastAt?: string
}

export interface TimelineEntry {
  at: string
  state: DeploymentState
  error: StatusError | null
  components: ComponentStatus[]
  /** Present when the same report came more than once in a row: how often, and the last time. */
  count?: number
  lastAt?: string
}

export interface Deployment {
  deploymentId: string
  clientId: string
  appId: string
  appVersion: string
  profile: ProfileRef
  values: Record<string, unknown>
  digest: string
  desired: Desired
  createdAt: string
  updatedAt: string
  /** null until the device reports. */
  status: DeploymentStatus | null
  /** Set when the operator dropped the deployment without the device confirming its removal. */
  removedUnconfirmedAt?: string
}

export interface DeploymentWithTimeline extends Deployment {
  timeline: TimelineEntry[]
}

// ---- status views (`GET /status`, `GET /status/{id}`; docs/watching.md) -------------------

/** An error as the status views show it: either part may be missing, an empty error is null. */
export interface StatusErrorInfo {
  code?: string
  message?: string
}

export interface DeviceLivenessView {
  clientId: string
  enrollment: Enrollment
  liveness: Liveness
  lastSeenAt: string | null
  labels: Record<string, string>
}

export interface FailedDeploymentView {
  deploymentId: string
  clientId: string
  appId: string
  appVersion: string
  error: StatusErrorInfo | null
  reportedAt: string
}

export interface LivenessThresholdsView {
  staleAfterSeconds: number
  offlineAfterSeconds: number
}

export interface FleetOverview {
  generatedAt: string
  thresholds: LivenessThresholdsView
  /** online + stale + offline = active; total = active + pending + revoked. */
  devices: {total: number; online: number; stale: number; offline: number; active: number; pending: number; revoked: number}
  /** Deployments still wanted on a device, or being removed; `unreported` until the device reports. */
  deployments: {total: number; byState: Record<string, number>}
  /** Newest report first. */
  failedDeployments: FailedDeploymentView[]
  /** Active devices that are not online, most recently seen first (never seen last). */
  staleOrOfflineDevices: DeviceLivenessView[]
  /** Devices whose certificate expires within `certExpiryWarningSeconds` (or has expired), soonest first. */
  expiringCertificates?: ExpiringCertificate[]
  certExpiryWarningSeconds?: number
}

export interface ExpiringCertificate {
  clientId: string
  notAfter: string
  expired: boolean
  /** Whole days left; 0 once expired. */
  daysLeft: number
  labels: Record<string, string>
}

export interface ComponentView {
  name: string
  state: string
  error: StatusErrorInfo | null
}

export interface StatusTimelineEntry {
  at: string
  state: string
  error: StatusErrorInfo | null
  components: ComponentView[]
  /** Present when the same report came more than once in a row: how often, and the last time. */
  count?: number
  lastAt?: string
}

export interface LastError extends StatusErrorInfo {
  at: string
  state: string
  /** Set when the error was reported for one component rather than for the whole deployment. */
  component?: string
}

export interface DeploymentStatusView {
  deploymentId: string
  clientId: string
  appId: string
  appVersion: string
  profile: {id: string; type: string}
  desired: Desired
  digest: string
  createdAt: string
  updatedAt: string
  /** `unreported` until the device reports. */
  state: string
  reportedAt: string | null
  error: StatusErrorInfo | null
  components: ComponentView[]
  lastError: LastError | null
  /** Oldest first. */
  timeline: StatusTimelineEntry[]
}

export type TargetKind = 'deployment' | 'device' | 'app'

export interface TargetStatus {
  id: string
  kind: TargetKind
  generatedAt: string
  thresholds: LivenessThresholdsView
  /** The devices the deployments run on (for a device: that device, even without deployments). */
  devices: DeviceLivenessView[]
  deployments: DeploymentStatusView[]
}

// ---- rollouts (`/rollouts`; docs/fleet.md) --------------------------------------------------

export interface RolloutTarget {
  clientId: string
  /** null for a deployment a dry run would create. */
  deploymentId: string | null
  action: 'create' | 'update' | 'unchanged'
  appVersion: string
  profile: {id: string; type: string}
  digest: string
  /** Dry run: the ApplicationDeployment YAML the device would get. */
  yaml?: string
  /** Dry run, updates: unified diff from the device's current YAML. */
  diff?: string
}

export interface SkippedDevice {
  clientId: string
  reason: string
}

export type RolloutChange = 'created' | 'updated' | 'unchanged'
export type RolloutField = 'version' | 'profile' | 'values' | 'target'

export interface RolloutResult {
  /** null for a dry run of a rollout that does not exist yet. */
  rolloutId: string | null
  name: string
  /** The revision this is (a dry run: would be). */
  revision: number
  /** `unchanged`: the request equals the current revision; no revision was added. */
  change: RolloutChange
  /** Fields changed from the previous revision. */
  changed: RolloutField[]
  dryRun: boolean
  appId: string
  /** Pinned version; null when the rollout follows the latest. */
  version: string | null
  /** The version deployed by this evaluation. */
  appVersion: string
  selector: string | null
  devices: string[]
  targets: RolloutTarget[]
  removed: {clientId: string; deploymentId: string}[]
  skipped: SkippedDevice[]
}

/** A rollout as the operator set it up. */
export interface Rollout {
  rolloutId: string
  /** Its identity for operators: a DNS label, unique among live rollouts. */
  name: string
  /** The current revision. */
  revision: number
  appId: string
  /** Pinned version; null when the rollout follows the latest. */
  version: string | null
  /** Label selector; null when the rollout lists its devices, `''` selects every device. */
  selector: string | null
  devices: string[]
  profile: string | null
  /** What the operator set; the app's defaults fill in the rest per device. */
  values: Record<string, unknown>
  /** Values for the devices a selector matches, in order (later wins). */
  setFor?: SetForRequest[]
  /** How the rollout is staged; absent: every device at once. */
  strategy?: Strategy
  createdAt: string
  updatedAt: string
}

/** An entry of `GET /rollouts`. */
export interface RolloutSummary extends Rollout {
  /** How many deployments the rollout has. */
  deployments: number
}

export interface RolloutDetail extends Rollout {
  /** The version deployed now; null when the app has no version the rollout can use. */
  appVersion: string | null
  targets: Deployment[]
  /** Devices in scope without a deployment, and why. */
  skipped: SkippedDevice[]
  /** A staged rollout: its run, per wave, and why each device has not converged. */
  progress?: RolloutProgress
}

export interface RolloutRemoval {
  rolloutId: string
  name: string
  removed: {clientId: string; deploymentId: string}[]
  /** `forget`: removals recorded as removed-unconfirmed. */
  forgotten: {clientId: string; deploymentId: string}[]
}

/** One revision as `GET /rollouts/{name}/revisions` shows it. */
export interface RolloutRevision {
  revision: number
  createdAt: string
  actor: string
  /** `undo to revision 2`, `migrated`; null for a plain deploy. */
  cause: string | null
  version: string | null
  profile: string | null
  /** Equal values, equal digest. */
  valuesDigest: string
  /** Secret-looking names (password, token, key, …) are shown as `(redacted)`. */
  values: Record<string, unknown>
  target: {selector: string} | {devices: string[]}
  changed: RolloutField[]
}

export interface RolloutHistory {
  rolloutId: string
  name: string
  appId: string
  revision: number
  /** Oldest first. */
  history: RolloutRevision[]
}

// ---- registries (`/registries`) -------------------------------------------------------------

export type RegistryKind = 'oci' | 'git'
export type SyncVersionStatus = 'added' | 'unchanged' | 'conflict' | 'invalid'

export interface SyncVersionResult {
  /** Null when the package could not be read far enough to know its id. */
  appId: string | null
  version: string | null
  status: SyncVersionStatus
  error?: string
  /** Where the package was found: `<repository>:<tag>` (OCI) or its folder in the repository (git, `.` for the root). */
  location: string
}

export interface SyncResult {
  registry: string
  startedAt: string
  finishedAt: string
  /** Distinct application ids among the packages read. */
  appsFound: number
  versionsAdded: number
  /** Empty in `GET /registries`; listed in a registry's own view and in a sync's answer. */
  versions: SyncVersionResult[]
  /** Problems that stopped part of the sync (unreachable registry, refused credentials, failed clone). */
  errors: string[]
}

export interface Registry {
  name: string
  kind: RegistryKind
  url: string
  ref?: string
  repositories: string[]
  /** Credentials are kept on the server and never returned. */
  hasCredentials: boolean
  credentialsKind?: 'basic' | 'bearer'
  intervalSeconds: number
  createdAt: string
  lastSyncAt: string | null
  lastSync: SyncResult | null
}

// ---- the deny-list (`/denylist`) -----------------------------------------------------------

export interface DenyEntry {
  value: string
  createdAt: string
}

export interface DenyResult {
  value: string
  revokedClientId: string | null
}

/** The error body of every non-2xx operator API answer. */
export interface ApiErrorBody {
  error: {code: string; message: string; details?: {path: string; message: string}[]}
}

/** The kinds of id the operator API accepts a unique prefix of (docs/operator-api.md). */
export type IdKind = 'device' | 'deployment' | 'rollout'

/** `GET /ids/{prefix}`: the full id a unique prefix (or a full id) names, and its kind. */
export interface IdMatch {
  id: string
  kind: IdKind
}

export type Role = 'admin' | 'operator' | 'viewer' | 'auditor'
export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer', 'auditor']

/** An operator token as listed: never its secret, which is shown once, at creation. */
export interface TokenInfo {
  name: string
  role: Role
  /** Label selector the token is confined to; null: the whole fleet. */
  scope: string | null
  createdAt: string
  createdBy: string
  expiresAt: string | null
  revokedAt: string | null
  lastUsedAt: string | null
}

export interface CreatedToken extends TokenInfo {
  /** The bearer token itself: shown this once, stored on the server only as a hash. */
  token: string
}

/** Who the presented token is (GET /whoami). */
export interface Principal {
  name: string
  role: Role
  scope: string | null
  permissions: string[]
}

export interface AuditEntry {
  seq: number
  at: string
  /** A token name, or `system` for the server's own actions. */
  actor: string
  action: string
  target: string
  /** What changed; values of parameters and secrets are replaced by hashes or `<redacted>`. */
  summary: Record<string, unknown>
  requestId: string | null
  /** SHA-256 (hex) of the previous entry; 64 zeros for the first. */
  prevHash: string
  hash: string
}

export type AuditVerification =
  | {ok: true, entries: number, head: string | null}
  | {ok: false, entries: number, brokenAt: number, reason: string}

/** A join token as listed: never its secret, which is shown once, at creation. */
export interface JoinTokenInfo {
  id: string
  /** Applied to each device the token admits, when it onboards. */
  labels: Record<string, string>
  /** Label selector the admitted device's labels must match; null: none. */
  scope: string | null
  maxUses: number
  uses: number
  createdAt: string
  createdBy: string
  expiresAt: string
  revokedAt: string | null
  lastUsedAt: string | null
}

export interface CreatedJoinToken extends JoinTokenInfo {
  /** The join token itself: shown this once, stored on the server only as a hash. */
  token: string
}

/** `POST /operator/v1/join`: what a device presents before it onboards. */
export interface JoinRequest {
  token: string
  /** `sha256:<hex>` of the DER of the certificate the device will onboard with. */
  fingerprint: string
}

export interface JoinResult {
  fingerprint: string
  joinTokenId: string
  labels: Record<string, string>
  /** Set when a device with this certificate was already waiting in pending: it is active now. */
  approvedClientId: string | null
  /** True when this token had already preauthorised this certificate: no use was counted. */
  repeated: boolean
}

/** A secret as listed: never its value, which only the devices whose deployments refer to it receive. */
export interface SecretInfo {
  name: string
  createdAt: string
  updatedAt: string
  /** The token that set the current value. */
  updatedBy: string
  /** Who refers to it as `${secret:NAME}`: live rollouts by name, present deployments by id. */
  usedBy: {rollouts: string[], deployments: string[]}
}

/** What `PUT /secrets/{name}` did. */
export interface SecretChange extends SecretInfo {
  created: boolean
  /** Deployments re-rendered with the new value: same id, new digest; their devices update in place. */
  rerendered: {deploymentId: string, clientId: string, digest: string}[]
}
