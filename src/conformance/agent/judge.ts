import type {CheckResult, CheckStatus, Observation, RecordedRequest, StepRecord, Verdict} from './model.ts'
import {EXPECTED_SEQUENCE, hasSubsequence} from './timeline.ts'

/** Stable ids of the checks, in the order they are reported. */
export const CHECK_IDS = {
  onboarding: 'onboarding-body',
  signatures: 'signatures',
  capabilities: 'capabilities-body',
  ifNoneMatch: 'if-none-match',
  statusBody: 'status-body',
  components: 'status-components',
  lifecycle: (label: string) => `lifecycle-${label.toLowerCase()}`,
  fixture: (stepId: string) => `fixture-${stepId}`,
  untrusted: 'untrusted-listener',
} as const

const MAX_LISTED = 3

function check(id: string, title: string, status: CheckStatus, detail: string): CheckResult {
  return {id, title, status, detail}
}

function describeRequest(r: RecordedRequest): string {
  return `${r.method} ${r.path}`
}

function listed(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).join('; ')
  return items.length > MAX_LISTED ? `${shown}; and ${items.length - MAX_LISTED} more` : shown
}

/** Requests in [from, to) by time; `to` null means until the end. */
function within(requests: readonly RecordedRequest[], from: number, to: number | null): RecordedRequest[] {
  return requests.filter(r => r.at >= from && (to === null || r.at < to))
}

const acceptedReports = (requests: readonly RecordedRequest[]) => requests.filter(r => r.route === 'status' && r.status === 200 && r.report?.state)

/**
 * Judges what a device agent did against the mock fleet manager. Pure: it reads the
 * recorded requests and the timeline as it ran, and names every requirement it checked
 * with PASS, FAIL or SKIP (SKIP only for what the run could not exercise).
 */
export function judge(obs: Observation): Verdict {
  const subject = obs.clientId
  const trusted = obs.requests.filter(r => r.listener === 'trusted')
  const mine = trusted.filter(r => subject !== null && r.clientId === subject)
  const label = (id: string) => obs.labels[id] ?? id
  const checks: CheckResult[] = []
  const none = 'no agent onboarded on the mock, so nothing could be checked'

  // Onboarding body.
  {
    const title = 'onboarding request: apiVersion, kind and a readable certificate'
    const req = mine.find(r => r.route === 'onboarding')
    if (!req) checks.push(check(CHECK_IDS.onboarding, title, 'FAIL', subject === null ? none : 'the onboarding request of the agent was not recorded'))
    else if (req.onboarding && req.onboarding.problems.length > 0) checks.push(check(CHECK_IDS.onboarding, title, 'FAIL', listed(req.onboarding.problems)))
    else checks.push(check(CHECK_IDS.onboarding, title, 'PASS', `certificate sent as ${req.onboarding?.encoding ?? 'unknown encoding'}`))
  }

  // Signatures on every request but the CA download.
  {
    const title = 'RFC 9421 signature on every request except the CA download, verified with the onboarded certificate'
    const signed = mine.filter(r => r.signature !== null)
    const bad = signed.filter(r => r.signature && !r.signature.ok).map(r => `${describeRequest(r)}: ${r.signature && !r.signature.ok ? r.signature.reason : ''}`)
    if (subject === null) checks.push(check(CHECK_IDS.signatures, title, 'FAIL', none))
    else if (signed.filter(r => r.route !== 'onboarding').length === 0) checks.push(check(CHECK_IDS.signatures, title, 'FAIL', 'the agent made no request after onboarding'))
    else if (bad.length > 0) checks.push(check(CHECK_IDS.signatures, title, 'FAIL', `${bad.length} of ${signed.length} requests failed verification: ${listed(bad)}`))
    else checks.push(check(CHECK_IDS.signatures, title, 'PASS', `${signed.length} requests, all signed and verified`))
  }

  // Capabilities.
  {
    const title = 'capabilities report (conformance rule set, 1.0.0 shape)'
    const reqs = mine.filter(r => r.route === 'capabilities')
    const bad = reqs.filter(r => (r.capabilities?.problems.length ?? 0) > 0)
    if (subject === null) checks.push(check(CHECK_IDS.capabilities, title, 'FAIL', none))
    else if (reqs.length === 0) checks.push(check(CHECK_IDS.capabilities, title, 'FAIL', 'the agent never reported its capabilities'))
    else if (bad.length > 0) checks.push(check(CHECK_IDS.capabilities, title, 'FAIL', `${describeRequest(bad[0]!)}: ${listed(bad[0]!.capabilities!.problems)}`))
    else checks.push(check(CHECK_IDS.capabilities, title, 'PASS', `${reqs.map(r => r.method).join(', ')} accepted`))
  }

  // If-None-Match.
  {
    const title = 'If-None-Match with the last ETag on every poll after the first'
    const polls = mine.filter(r => r.route === 'manifest')
    const served = new Set<string>()
    const problems: string[] = []
    let first = true
    for (const poll of polls) {
      if (!first) {
        if (!poll.ifNoneMatch) problems.push(`poll #${poll.seq} had no If-None-Match`)
        else if (!served.has(poll.ifNoneMatch)) problems.push(`poll #${poll.seq} sent ${poll.ifNoneMatch}, an ETag the mock never served`)
      }
      if (poll.status === 200 && poll.etag) {
        served.add(poll.etag)
        first = false
      }
    }
    if (subject === null) checks.push(check(CHECK_IDS.ifNoneMatch, title, 'FAIL', none))
    else if (polls.length < 2) checks.push(check(CHECK_IDS.ifNoneMatch, title, 'FAIL', `the agent polled the desired state ${polls.length} time(s)`))
    else if (problems.length > 0) checks.push(check(CHECK_IDS.ifNoneMatch, title, 'FAIL', listed(problems)))
    else checks.push(check(CHECK_IDS.ifNoneMatch, title, 'PASS', `${polls.length} polls, ${polls.filter(p => p.status === 304).length} answered 304`))
  }

  // Status report bodies.
  const statusReqs = mine.filter(r => r.route === 'status')
  {
    const title = 'status reports: DeploymentStatusManifest rules, deploymentId equal to the path'
    const bad = statusReqs.filter(r => (r.report?.problems.length ?? 0) > 0)
    if (subject === null) checks.push(check(CHECK_IDS.statusBody, title, 'FAIL', none))
    else if (statusReqs.length === 0) checks.push(check(CHECK_IDS.statusBody, title, 'FAIL', 'the agent sent no status report'))
    else if (bad.length > 0) checks.push(check(CHECK_IDS.statusBody, title, 'FAIL', `${bad.length} of ${statusReqs.length} reports refused: ${listed(bad.map(r => `${label(r.deploymentId ?? '?')}: ${r.report!.problems.join(', ')}`))}`))
    else checks.push(check(CHECK_IDS.statusBody, title, 'PASS', `${statusReqs.length} reports accepted`))
  }

  // Component names as in the YAML.
  {
    const title = 'status reports name every component of the deployment YAML'
    const declared = new Map<string, string[]>()
    for (const step of obs.steps) for (const dep of step.manifest?.deployments ?? []) declared.set(dep.deploymentId, dep.components)
    const problems: string[] = []
    for (const r of acceptedReports(statusReqs)) {
      const want = declared.get(r.deploymentId ?? '')
      if (!want) continue
      const got = r.report!.components.map(c => c.name)
      if (got.length !== want.length || want.some(n => !got.includes(n))) problems.push(`${label(r.deploymentId!)} ${r.report!.state}: components [${got.join(', ')}], the YAML declares [${want.join(', ')}]`)
    }
    if (subject === null) checks.push(check(CHECK_IDS.components, title, 'FAIL', none))
    else if (acceptedReports(statusReqs).length === 0) checks.push(check(CHECK_IDS.components, title, 'FAIL', 'no status report was accepted'))
    else if (problems.length > 0) checks.push(check(CHECK_IDS.components, title, 'FAIL', listed(problems)))
    else checks.push(check(CHECK_IDS.components, title, 'PASS', 'every report names exactly the declared components'))
  }

  checks.push(...lifecycleChecks(obs, mine, subject))
  for (const [i, step] of obs.steps.entries()) {
    if (step.kind === 'fixture') checks.push(fixtureCheck(obs, mine, subject, step, obs.steps[i + 1] ?? null))
  }

  // The listener with the untrusted certificate.
  {
    const title = 'refuses the listener whose certificate does not chain to the given CA'
    const u = obs.untrusted
    if (u.requests > 0) checks.push(check(CHECK_IDS.untrusted, title, 'FAIL', `${u.requests} HTTP request(s) went through TLS to the untrusted listener: the agent accepted a certificate its CA never issued`))
    else if (u.connections === 0) checks.push(check(CHECK_IDS.untrusted, title, 'SKIP', 'no connection to the untrusted listener was attempted: point a second instance of the agent at it (same CA file) to exercise this check'))
    else checks.push(check(CHECK_IDS.untrusted, title, 'PASS', `${u.connections} connection(s) attempted, none got past TLS`))
  }

  const summary = {
    pass: checks.filter(c => c.status === 'PASS').length,
    fail: checks.filter(c => c.status === 'FAIL').length,
    skip: checks.filter(c => c.status === 'SKIP').length,
  }
  return {passed: summary.fail === 0, summary, checks}
}

/** One check per deployment the accepting steps touch: every add, change and removal went through its states. */
function lifecycleChecks(obs: Observation, mine: readonly RecordedRequest[], subject: string | null): CheckResult[] {
  const expectations = new Map<string, {step: StepRecord, next: StepRecord | null, kind: keyof typeof EXPECTED_SEQUENCE}[]>()
  obs.steps.forEach((step, i) => {
    if (step.expect !== 'accept' || step.kind === 'setup') return
    for (const kind of ['added', 'updated', 'removed'] as const) {
      for (const id of step[kind]) expectations.set(id, [...(expectations.get(id) ?? []), {step, next: obs.steps[i + 1] ?? null, kind}])
    }
  })
  const out: CheckResult[] = []
  for (const [id, list] of expectations) {
    const name = obs.labels[id] ?? id
    const title = `deployment ${name}: ${list.map(e => `${e.kind === 'added' ? 'assigned' : e.kind === 'updated' ? 'changed' : 'removed'} (${EXPECTED_SEQUENCE[e.kind].join(' → ')})`).join(', ')}`
    if (subject === null) {
      out.push(check(CHECK_IDS.lifecycle(name), title, 'FAIL', 'no agent onboarded on the mock, so nothing could be checked'))
      continue
    }
    const problems: string[] = []
    for (const e of list) {
      const states = acceptedReports(within(mine, e.step.startedAt, e.next?.startedAt ?? null)).filter(r => r.deploymentId === id).map(r => r.report!.state!)
      if (!hasSubsequence(states, EXPECTED_SEQUENCE[e.kind])) {
        problems.push(`step ${e.step.id}: reported [${states.join(', ') || 'nothing'}]${e.step.reached ? '' : ' before the step timed out'}`)
      }
    }
    out.push(problems.length > 0 ? check(CHECK_IDS.lifecycle(name), title, 'FAIL', listed(problems)) : check(CHECK_IDS.lifecycle(name), title, 'PASS', 'every transition reported in order'))
  }
  return out
}

const FIXTURE_TITLES: Record<string, string> = {
  unsupported_digest_algorithm: 'refuses a manifest with sha512: digests, without downloading anything it names',
  bundle_digest_mismatch: 'refuses a manifest whose bundle digest does not match the bundle',
  deployment_digest_mismatch: 'refuses a manifest whose deployment digest does not match the YAML',
  non_increasing_manifest_version: 'refuses a manifest with a lower manifestVersion (rollback)',
  wrong_size_bytes: 'accepts a manifest whose sizeBytes are wrong (sizeBytes is no integrity check)',
}

function fixtureCheck(obs: Observation, mine: readonly RecordedRequest[], subject: string | null, step: StepRecord, next: StepRecord | null): CheckResult {
  const id = CHECK_IDS.fixture(step.id)
  const title = FIXTURE_TITLES[step.fixture ?? ''] ?? step.title
  if (subject === null || step.manifest === null) return check(id, title, 'FAIL', 'no agent onboarded on the mock, so nothing could be checked')
  const manifest = step.manifest
  const label = (x: string) => obs.labels[x] ?? x
  const during = within(mine, step.startedAt, next?.startedAt ?? null)
  const after = mine.filter(r => r.at >= step.startedAt)
  const received = during.filter(r => r.route === 'manifest' && r.status === 200 && r.etag === manifest.etag).length

  if (step.expect === 'accept') {
    const missing = [...step.added.map(x => ['added', x] as const), ...step.updated.map(x => ['updated', x] as const)]
      .filter(([kind, x]) => !hasSubsequence(acceptedReports(during).filter(r => r.deploymentId === x).map(r => r.report!.state!), EXPECTED_SEQUENCE[kind]))
    if (received === 0) return check(id, title, 'FAIL', 'the agent never received this manifest (no poll while it was served)')
    if (missing.length > 0) return check(id, title, 'FAIL', `manifestVersion ${manifest.manifestVersion} was not adopted: no ${missing.map(([kind, x]) => `${EXPECTED_SEQUENCE[kind].join(' → ')} for ${label(x)}`).join(', ')}${step.waitingFor ? ` (waiting for ${step.waitingFor})` : ''}`)
    return check(id, title, 'PASS', `manifestVersion ${manifest.manifestVersion} adopted and applied`)
  }

  const problems: string[] = []
  if (received === 0) problems.push('the agent never received the bad manifest (no poll while it was served)')
  const own = new Set(step.ownUrls)
  if (step.noFetch) {
    const fetched = after.filter(r => (r.route === 'bundle' || r.route === 'yaml') && own.has(r.path))
    if (fetched.length > 0) problems.push(`downloaded what it names: ${listed(fetched.map(describeRequest))}`)
  }
  const adoptedEtag = after.some(r => r.route === 'manifest' && r.ifNoneMatch === manifest.etag)
  if (adoptedEtag) problems.push('later polls sent its ETag in If-None-Match, so the agent adopted it')
  const reports = acceptedReports(during)
  const changed = new Set([...step.added, ...step.updated])
  const adoptedBy = reports.filter(r => changed.has(r.deploymentId!) || (step.removed.includes(r.deploymentId!) && (r.report!.state === 'removing' || r.report!.state === 'removed')))
  if (adoptedBy.length > 0) problems.push(`acted on it: ${listed(adoptedBy.map(r => `${label(r.deploymentId!)} reported ${r.report!.state}`))}`)
  // Every other deployment must keep the state it had when the bad manifest appeared.
  const before = acceptedReports(mine.filter(r => r.at < step.startedAt))
  const lastState = new Map<string, string>()
  for (const r of before) lastState.set(r.deploymentId!, r.report!.state!)
  const regressions = reports.filter(r => !changed.has(r.deploymentId!) && !step.removed.includes(r.deploymentId!) && lastState.has(r.deploymentId!) && lastState.get(r.deploymentId!) !== r.report!.state)
  if (regressions.length > 0) problems.push(`status changed while it was served: ${listed(regressions.map(r => `${label(r.deploymentId!)} ${lastState.get(r.deploymentId!)} → ${r.report!.state}`))}`)

  if (problems.length > 0) return check(id, title, 'FAIL', `manifestVersion ${manifest.manifestVersion}: ${problems.join('; ')}`)
  return check(id, title, 'PASS', `refused manifestVersion ${manifest.manifestVersion} (received ${received} time(s)); no status changed${step.noFetch ? ', nothing it names was downloaded' : ''}`)
}
