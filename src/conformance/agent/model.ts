/**
 * What the mock fleet manager records about the agent under test, and what the judge reads.
 * Everything here is plain data so the judge can be exercised without a network.
 */

export type FixtureName =
  | 'unsupported_digest_algorithm'
  | 'bundle_digest_mismatch'
  | 'deployment_digest_mismatch'
  | 'non_increasing_manifest_version'
  | 'wrong_size_bytes'

export type Route = 'ca' | 'onboarding' | 'capabilities' | 'manifest' | 'bundle' | 'yaml' | 'status' | 'sample-app' | 'health' | 'unknown'

/** The outcome of checking a request's RFC 9421 signature. */
export type SignatureVerdict =
  | {ok: true}
  | {ok: false, reason: string}

export interface ReportedComponent {
  name: string
  state: string
}

/** One HTTP request that reached a listener of the mock, with what the mock made of it. */
export interface RecordedRequest {
  seq: number
  /** Milliseconds since the epoch. */
  at: number
  listener: 'trusted' | 'untrusted'
  method: string
  /** The path below the base path (`/api/v1/...`), without the query. */
  path: string
  route: Route
  clientId?: string
  deploymentId?: string
  ifNoneMatch: string | null
  /** Null where no signature is required (the CA download, sample apps, health). */
  signature: SignatureVerdict | null
  status: number
  /** The ETag the mock answered with (manifest, bundle, YAML). */
  etag?: string
  /** The timeline step being served when the request arrived. */
  stepId: string | null
  /** Onboarding: how the certificate was encoded, and every problem with the body. */
  onboarding?: {encoding: 'base64-der' | 'base64-pem' | 'pem' | 'unreadable', problems: string[]}
  /** Capabilities: every rule or schema problem with the body. */
  capabilities?: {problems: string[]}
  /** Status: the report as sent, and every problem with it. */
  report?: {state: string | null, components: ReportedComponent[], problems: string[]}
}

export interface ServedDeployment {
  label: string
  deploymentId: string
  digest: string
  /** Relative URL as written in the manifest. */
  url: string
  /** Component names the deployment's YAML declares. */
  components: string[]
}

/** What one timeline step served, for the one client under test. */
export interface ServedManifest {
  manifestVersion: number
  etag: string
  deployments: ServedDeployment[]
  bundleUrl: string | null
}

export type StepKind = 'setup' | 'change' | 'fixture'

/** The timeline as it ran: when each step started, and whether an accepting step reached its goal. */
export interface StepRecord {
  id: string
  title: string
  kind: StepKind
  fixture?: FixtureName
  expect: 'accept' | 'reject'
  startedAt: number
  endedAt: number | null
  /** Accepting steps: the agent got to the expected states in time. Fixtures: the agent polled the bad manifest often enough. */
  reached: boolean
  waitingFor?: string
  /** Null when no client had onboarded yet. */
  manifest: ServedManifest | null
  /** Accepting steps: what changed since the previous accepting step. Fixtures: what adopting it would change. */
  added: string[]
  updated: string[]
  removed: string[]
  /** Fixtures whose content cannot be verified at all: fetching their artifacts means the manifest was not refused up front. */
  noFetch: boolean
  /** URLs (relative, as in the manifest) that only this bad manifest names. */
  ownUrls: string[]
}

export interface UntrustedListenerRecord {
  /** TCP connections opened to the listener with the untrusted certificate. */
  connections: number
  /** HTTP requests that got through TLS: each one means the agent trusted the wrong certificate. */
  requests: number
}

export interface Observation {
  basePath: string
  /** The first client that onboarded on the trusted listener: the agent under test. */
  clientId: string | null
  requests: RecordedRequest[]
  steps: StepRecord[]
  untrusted: UntrustedListenerRecord
  /** Labels of deployments (A, B, …) by deploymentId, for messages. */
  labels: Record<string, string>
}

export type CheckStatus = 'PASS' | 'FAIL' | 'SKIP'

export interface CheckResult {
  id: string
  title: string
  status: CheckStatus
  /** Why it passed, failed or was skipped, in one or a few sentences. */
  detail: string
}

export interface Verdict {
  passed: boolean
  summary: {pass: number, fail: number, skip: number}
  checks: CheckResult[]
}
