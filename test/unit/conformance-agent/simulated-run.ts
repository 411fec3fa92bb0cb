import {renderStep, deploymentYaml} from '../../../src/conformance/agent/manifests.ts'
import type {Observation, RecordedRequest, StepRecord} from '../../../src/conformance/agent/model.ts'
import {agentTimeline, deploymentLabels, diffPlans, previousAccepted, type PlannedDeployment} from '../../../src/conformance/agent/timeline.ts'

export const CLIENT = '7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f'

const TEMPLATE = `apiVersion: margo.org/v1alpha1
kind: ApplicationDeployment
metadata:
  name: {{deploymentId}}
  annotations:
    id: {{deploymentId}}
spec:
  appPackageRef:
    id: sample
  deploymentProfile:
    type: compose
    components:
      - name: sample-component
        properties:
          packageLocation: {{packageLocation}}
          wait: true
`

const yamlOf = (p: PlannedDeployment) => deploymentYaml(TEMPLATE, p.deploymentId, `https://127.0.0.1:1/sample-apps/${p.app}/compose.yaml?revision=${p.revision}`)

/**
 * The record a well-behaved agent leaves on the mock, built without any network: onboarding,
 * capabilities, two polls per step with If-None-Match, downloads of what changed (and of what
 * a mismatch fixture names, since that is how a mismatch is found), and every status
 * transition. Tests break one behaviour at a time and expect exactly the matching check to fail.
 */
export function wellBehavedRun(): Observation {
  const plans = agentTimeline()
  const requests: RecordedRequest[] = []
  let t = 1_000_000
  const push = (r: Omit<RecordedRequest, 'seq' | 'at' | 'listener' | 'stepId' | 'ifNoneMatch' | 'signature'> & Partial<RecordedRequest>) => {
    t += 10
    requests.push({seq: requests.length + 1, at: t, listener: 'trusted', stepId: null, ifNoneMatch: null, signature: {ok: true}, clientId: CLIENT, ...r})
  }
  push({method: 'POST', path: '/api/v1/onboarding', route: 'onboarding', status: 201, onboarding: {encoding: 'base64-der', problems: []}})
  push({method: 'POST', path: `/api/v1/clients/${CLIENT}/capabilities`, route: 'capabilities', status: 201, capabilities: {problems: []}})

  const steps: StepRecord[] = []
  const renders = plans.map(p => renderStep(p, CLIENT, yamlOf))
  const acceptedUrls = new Set(plans.flatMap((p, i) => (p.expect === 'accept' ? [...renders[i]!.artifacts.keys()] : [])))
  let etag: string | null = null
  plans.forEach((plan, i) => {
    t += 1000
    const r = renders[i]!
    const diff = diffPlans(previousAccepted(plans, i)?.deployments ?? [], plan.deployments)
    steps.push({
      id: plan.id, title: plan.title, kind: plan.kind, ...(plan.fixture && {fixture: plan.fixture}), expect: plan.expect,
      startedAt: t, endedAt: null, reached: true, manifest: r.served, ...diff,
      noFetch: plan.fixture === 'unsupported_digest_algorithm' || plan.fixture === 'non_increasing_manifest_version',
      ownUrls: plan.expect === 'reject' ? [...r.artifacts.keys()].filter(u => !acceptedUrls.has(u)) : [],
    })
    const poll = () => push({method: 'GET', path: `/api/v1/clients/${CLIENT}/deployments`, route: 'manifest', ifNoneMatch: etag, status: etag === r.served.etag ? 304 : 200, etag: r.served.etag})
    const report = (deploymentId: string, state: string) => push({method: 'POST', path: `/api/v1/clients/${CLIENT}/deployments/${deploymentId}/status`, route: 'status', deploymentId, status: 200, report: {state, components: [{name: 'sample-component', state}], problems: []}})
    poll()
    if (plan.expect === 'reject') {
      if (!steps.at(-1)!.noFetch) for (const url of steps.at(-1)!.ownUrls) push({method: 'GET', path: url, route: url.includes('/bundles/') ? 'bundle' : 'yaml', status: 200})
      poll()
    } else {
      for (const ref of r.served.deployments.filter(d => diff.added.includes(d.deploymentId) || diff.updated.includes(d.deploymentId))) push({method: 'GET', path: ref.url, route: 'yaml', deploymentId: ref.deploymentId, status: 200})
      etag = r.served.etag
      for (const id of diff.removed) for (const s of ['removing', 'removed']) report(id, s)
      for (const id of diff.added) for (const s of ['pending', 'installing', 'installed']) report(id, s)
      for (const id of diff.updated) for (const s of ['pending', 'installing', 'installed']) report(id, s)
      poll()
    }
    steps.at(-1)!.endedAt = t
  })
  return {basePath: '/v1alpha2/margo', clientId: CLIENT, requests, steps, untrusted: {connections: 2, requests: 0}, labels: deploymentLabels(plans)}
}

/** Time just after a step started, and the step's record. */
export function during(obs: Observation, stepId: string): {at: number, step: StepRecord} {
  const step = obs.steps.find(s => s.id === stepId)!
  return {at: step.startedAt + 1, step}
}
