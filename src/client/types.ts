/**
 * Resources of the operator API (`/operator/v1`), as the server sends them: camelCase fields,
 * ISO 8601 UTC timestamps. Documents the server relays from devices or packages
 * (capabilities, ApplicationDescription) stay loosely typed here: their schema belongs to the
 * Margo vocabulary and the CLI only reads a few well-known fields for display.
 */

export type Enrollment = 'pending' | 'active' | 'revoked'
export type EnrollmentMode = 'auto' | 'approve' | 'allowlist'
export type ProfileType = 'helm.v3' | 'compose' | (string & {})
export type DeploymentState = 'pending' | 'installing' | 'installed' | 'failed' | 'removing' | 'removed'
export type Desired = 'present' | 'absent'

export interface Health {
  version: string
  uptimeSeconds: number
  enrollment: EnrollmentMode
  deviceApiUrl: string
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

export interface ApplicationParameter {
  value?: unknown
  targets?: {pointer: string; components: string[]}[]
}

export interface ApplicationSetting {
  parameter: string
  name: string
  description?: string
  immutable?: boolean
  schema: string
}

/** The ApplicationDescription of one version, as published. */
export interface ApplicationDescription {
  apiVersion?: string
  kind?: string
  metadata?: {
    id?: string
    name?: string
    description?: string
    version?: string
    catalog?: {
      application?: {tagline?: string; site?: string; tags?: string[]; [key: string]: unknown}
      author?: {name?: string; email?: string}[]
      organization?: {name?: string; site?: string}[]
    }
  }
  deploymentProfiles?: {type: string; id: string; description?: string; components?: {name: string}[]}[]
  parameters?: Record<string, ApplicationParameter>
  configuration?: {
    sections?: {name: string; settings: ApplicationSetting[]}[]
    schema?: ({name: string; dataType: string} & Record<string, unknown>)[]
  }
  [key: string]: unknown
}

export interface AppSummary {
  appId: string
  name: string
  latestVersion: string
  versions: AppVersion[]
}

export interface App extends AppSummary {
  description: ApplicationDescription
}

export interface PublishResult {
  app: App
  /** false when the same version with the same content was already published. */
  created: boolean
}

export interface StatusError {
  code: string
  message: string
}

export interface ComponentStatus {
  name: string
  state: DeploymentState
  error?: StatusError | Record<string, never> | null
}

export interface DeploymentStatus {
  state: DeploymentState
  error?: StatusError | null
  components: ComponentStatus[]
  reportedAt: string
}

export interface TimelineEntry {
  at: string
  state: DeploymentState
  error: StatusError | null
  components: ComponentStatus[]
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
}

export interface DeploymentWithTimeline extends Deployment {
  timeline: TimelineEntry[]
}

export interface DeploymentFilter {
  clientId?: string
  appId?: string
}

export interface CreateDeploymentRequest {
  appId: string
  version?: string
  clientId: string
  /** `helm.v3`, `compose`, or a profile id. */
  profile?: string
  values?: Record<string, unknown>
}

export interface UpdateDeploymentRequest {
  version?: string
  values?: Record<string, unknown>
}

export interface FleetStatus {
  devices: {total: number; active: number; pending: number; revoked: number}
  deployments: {total: number; byState: Partial<Record<DeploymentState, number>> & Record<string, number>}
}

/** The error body of every non-2xx operator API answer. */
export interface ApiErrorBody {
  error: {code: string; message: string; details?: {path: string; message: string}[]}
}
