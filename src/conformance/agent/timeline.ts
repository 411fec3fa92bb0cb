import type {FixtureName, RecordedRequest, StepKind} from './model.ts'

/** The sample apps of the device-supplier suite; each has a deployment template and a compose file. */
export type SampleApp = 'app-a' | 'app-b'

export interface PlannedDeployment {
  label: string
  deploymentId: string
  app: SampleApp
  /** Bumped to change a deployment's content (and so its digest) under the same id. */
  revision: number
  /** deployment_digest_mismatch: the manifest announces a digest these bytes do not have. */
  tampered?: boolean
}

export interface StepPlan {
  id: string
  title: string
  kind: StepKind
  fixture?: FixtureName
  expect: 'accept' | 'reject'
  manifestVersion: number
  deployments: PlannedDeployment[]
}

// The ids the suite's mock gives its app-a and app-b templates, then ids of our own.
const A = {label: 'A', deploymentId: 'b7f1c3a0-1a2b-4c3d-9e5f-6a7b8c9d0e1a', app: 'app-a'} as const
const B = {label: 'B', deploymentId: 'c8e2d4b1-2b3c-5d4e-0f6a-7b8c9d0e1f2b', app: 'app-b'} as const
const C = {label: 'C', deploymentId: '5a0c9d27-61e4-4b8a-9f3d-2c7e1b6a4d90', app: 'app-b'} as const
const X1 = {label: 'X1', deploymentId: '0d6f2b84-9c1a-4e37-b5d2-7a8e3f9c1b06', app: 'app-a'} as const
const X2 = {label: 'X2', deploymentId: '1e7a3c95-ad2b-4f48-86e3-8b9f4a0d2c17', app: 'app-b'} as const
const X3 = {label: 'X3', deploymentId: '2f8b4da6-be3c-4059-97f4-9ca05b1e3d28', app: 'app-a'} as const
const X4 = {label: 'X4', deploymentId: '3a9c5eb7-cf4d-416a-a805-adb16c2f4e39', app: 'app-b'} as const

const d = (base: Omit<PlannedDeployment, 'revision'>, revision = 1, tampered = false): PlannedDeployment => ({...base, revision, ...(tampered && {tampered})})

/**
 * The timeline the mock drives: deployments are assigned, changed and removed, and each
 * negative fixture of the suite's mock is served between good manifests, so both the
 * rejection and the recovery after it can be observed. Every bad manifest carries a change
 * (a new deployment, a dropped one) that would show in the agent's status reports if it
 * were adopted. The bundle mismatch adds three deployments at once, so an agent that prefers
 * the bundle for large change sets has to download (and refuse) it.
 */
export function agentTimeline(): StepPlan[] {
  return [
    {id: 'start', title: 'empty desired state (onboarding, capabilities, first polls)', kind: 'setup', expect: 'accept', manifestVersion: 1, deployments: []},
    {id: 'assign-a', title: 'assign deployment A', kind: 'change', expect: 'accept', manifestVersion: 2, deployments: [d(A)]},
    {id: 'unsupported-digest', title: 'fixture: digests with an unsupported algorithm (sha512:)', kind: 'fixture', fixture: 'unsupported_digest_algorithm', expect: 'reject', manifestVersion: 3, deployments: [d(A), d(B)]},
    {id: 'assign-b', title: 'assign deployment B', kind: 'change', expect: 'accept', manifestVersion: 3, deployments: [d(A), d(B)]},
    {id: 'bundle-mismatch', title: 'fixture: bundle digest mismatch', kind: 'fixture', fixture: 'bundle_digest_mismatch', expect: 'reject', manifestVersion: 4, deployments: [d(A), d(B), d(X1), d(X2), d(X3)]},
    {id: 'change-a', title: 'change deployment A (new digest, same id)', kind: 'change', expect: 'accept', manifestVersion: 4, deployments: [d(A, 2), d(B)]},
    {id: 'deployment-mismatch', title: 'fixture: deployment YAML digest mismatch', kind: 'fixture', fixture: 'deployment_digest_mismatch', expect: 'reject', manifestVersion: 5, deployments: [d(A, 2), d(B), d(C, 1, true)]},
    {id: 'wrong-size', title: 'fixture: wrong sizeBytes (must be accepted)', kind: 'fixture', fixture: 'wrong_size_bytes', expect: 'accept', manifestVersion: 5, deployments: [d(A, 2), d(B), d(C)]},
    {id: 'rollback', title: 'fixture: non-increasing manifestVersion', kind: 'fixture', fixture: 'non_increasing_manifest_version', expect: 'reject', manifestVersion: 1, deployments: [d(A, 2), d(B), d(X4)]},
    {id: 'remove-a', title: 'remove deployment A', kind: 'change', expect: 'accept', manifestVersion: 6, deployments: [d(B), d(C)]},
  ]
}

/** Label (A, B, …) of every deploymentId the timeline uses. */
export function deploymentLabels(plans: readonly StepPlan[] = agentTimeline()): Record<string, string> {
  return Object.fromEntries(plans.flatMap(p => p.deployments.map(x => [x.deploymentId, x.label])))
}

export interface PlanDiff {
  added: string[]
  updated: string[]
  removed: string[]
}

/** What adopting `next` changes relative to `previous` (deploymentIds). */
export function diffPlans(previous: readonly PlannedDeployment[], next: readonly PlannedDeployment[]): PlanDiff {
  const before = new Map(previous.map(p => [p.deploymentId, p]))
  const after = new Map(next.map(p => [p.deploymentId, p]))
  return {
    added: next.filter(p => !before.has(p.deploymentId)).map(p => p.deploymentId),
    updated: next.filter(p => before.has(p.deploymentId) && before.get(p.deploymentId)!.revision !== p.revision).map(p => p.deploymentId),
    removed: previous.filter(p => !after.has(p.deploymentId)).map(p => p.deploymentId),
  }
}

/** The accepting step before `index` (what the agent should be running while step `index` is served). */
export function previousAccepted(plans: readonly StepPlan[], index: number): StepPlan | null {
  for (let i = index - 1; i >= 0; i--) if (plans[i]!.expect === 'accept') return plans[i]!
  return null
}

/** The states an agent must report, in order, for a deployment a step adds, changes or removes. */
export const EXPECTED_SEQUENCE = {
  added: ['pending', 'installing', 'installed'],
  updated: ['installing', 'installed'],
  removed: ['removing', 'removed'],
} as const

/** True when `states` contains `sequence` as a subsequence (other reports may come in between). */
export function hasSubsequence(states: readonly string[], sequence: readonly string[]): boolean {
  let i = 0
  for (const s of states) if (s === sequence[i]) i++
  return i >= sequence.length
}

/** Accepted status reports of one client for one deployment, oldest first. */
export function reportedStates(requests: readonly RecordedRequest[], clientId: string, deploymentId: string): string[] {
  return requests
    .filter(r => r.route === 'status' && r.status === 200 && r.clientId === clientId && r.deploymentId === deploymentId && r.report?.state)
    .map(r => r.report!.state!)
}

export interface StepProgressInput {
  plan: StepPlan
  diff: PlanDiff
  clientId: string | null
  /** Requests of the trusted listener since the step started. */
  requests: readonly RecordedRequest[]
  /** Polls a fixture must be served for. */
  fixturePolls: number
}

/**
 * Whether the agent got where the step needs it: set-up steps need onboarding, a capabilities
 * report and two polls (so `If-None-Match` can be seen); accepting steps need every added,
 * changed and removed deployment to go through its states; fixtures need the bad manifest
 * polled `fixturePolls` times, so the agent had time to refuse it. `waitingFor` says what is
 * still missing, for progress output and for the verdict when a step times out.
 */
export function stepProgress(input: StepProgressInput): {done: boolean, waitingFor: string} {
  const {plan, diff, clientId, requests} = input
  if (clientId === null) return {done: false, waitingFor: 'an agent to onboard'}
  const mine = requests.filter(r => r.clientId === clientId)
  const polls = mine.filter(r => r.route === 'manifest' && (r.status === 200 || r.status === 304)).length
  if (plan.kind === 'setup') {
    if (!mine.some(r => r.route === 'capabilities' && r.status === 201)) return {done: false, waitingFor: 'a capabilities report the mock accepts'}
    if (polls < 2) return {done: false, waitingFor: `${2 - polls} more poll(s) of the desired state`}
    return {done: true, waitingFor: ''}
  }
  if (plan.expect === 'reject') {
    if (polls < input.fixturePolls) return {done: false, waitingFor: `${input.fixturePolls - polls} more poll(s) while the bad manifest is served`}
    return {done: true, waitingFor: ''}
  }
  const missing: string[] = []
  const labels = deploymentLabels()
  const label = (id: string) => labels[id] ?? id
  for (const [kind, ids] of [['added', diff.added], ['updated', diff.updated], ['removed', diff.removed]] as const) {
    for (const id of ids) {
      const states = reportedStates(requests, clientId, id)
      const sequence = EXPECTED_SEQUENCE[kind]
      if (!hasSubsequence(states, sequence)) missing.push(`${label(id)}: ${sequence.join(' → ')}`)
    }
  }
  return missing.length === 0 ? {done: true, waitingFor: ''} : {done: false, waitingFor: `status reports ${missing.join('; ')}`}
}
