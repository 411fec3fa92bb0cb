import {describe, expect, test} from 'bun:test'
import {judge} from '../../../src/conformance/agent/judge.ts'
import type {Observation, RecordedRequest} from '../../../src/conformance/agent/model.ts'
import {CLIENT, during, wellBehavedRun} from './simulated-run.ts'

const statusOf = (obs: Observation) => Object.fromEntries(judge(obs).checks.map(c => [c.id, c.status]))
const failing = (obs: Observation) => judge(obs).checks.filter(c => c.status === 'FAIL').map(c => c.id)
const detailOf = (obs: Observation, id: string) => judge(obs).checks.find(c => c.id === id)!.detail

/** Adds a request at its place in time, as the mock would have recorded it. */
function inject(obs: Observation, at: number, r: Partial<RecordedRequest> & Pick<RecordedRequest, 'route' | 'method' | 'path' | 'status'>) {
  const request: RecordedRequest = {seq: 999, at, listener: 'trusted', stepId: null, ifNoneMatch: null, signature: {ok: true}, clientId: CLIENT, ...r}
  const i = obs.requests.findIndex(x => x.at > at)
  obs.requests.splice(i < 0 ? obs.requests.length : i, 0, request)
}

const report = (deploymentId: string, state: string): Pick<RecordedRequest, 'route' | 'method' | 'path' | 'status' | 'deploymentId' | 'report'> => ({
  route: 'status', method: 'POST', path: `/api/v1/clients/${CLIENT}/deployments/${deploymentId}/status`, status: 200, deploymentId,
  report: {state, components: [{name: 'sample-component', state}], problems: []},
})

describe('judge', () => {
  test('a well-behaved agent passes every check, each one named', () => {
    const verdict = judge(wellBehavedRun())
    expect(verdict.checks.filter(c => c.status !== 'PASS')).toEqual([])
    expect(verdict.passed).toBe(true)
    expect(verdict.checks.map(c => c.id)).toEqual([
      'onboarding-body', 'signatures', 'capabilities-body', 'if-none-match', 'status-body', 'status-components',
      'lifecycle-a', 'lifecycle-b', 'lifecycle-c',
      'fixture-unsupported-digest', 'fixture-bundle-mismatch', 'fixture-deployment-mismatch', 'fixture-wrong-size', 'fixture-rollback',
      'untrusted-listener',
    ])
  })

  test('adopting the lower manifestVersion fails the rollback check and nothing else', () => {
    const obs = wellBehavedRun()
    const {at, step} = during(obs, 'rollback')
    // The agent now polls with the bad manifest's ETag and applies what it says.
    inject(obs, at + 500, {route: 'manifest', method: 'GET', path: `/api/v1/clients/${CLIENT}/deployments`, status: 304, ifNoneMatch: step.manifest!.etag, etag: step.manifest!.etag})
    expect(failing(obs)).toEqual(['fixture-rollback'])
    expect(detailOf(obs, 'fixture-rollback')).toContain('adopted')
  })

  test('acting on a bad manifest (a status for the deployment only it names) fails that fixture', () => {
    const obs = wellBehavedRun()
    const {at, step} = during(obs, 'rollback')
    inject(obs, at + 500, report(step.added[0]!, 'pending'))
    expect(failing(obs)).toContain('fixture-rollback')
    expect(detailOf(obs, 'fixture-rollback')).toContain('X4 reported pending')
  })

  test('a status regression while a bad manifest is served fails that fixture', () => {
    const obs = wellBehavedRun()
    const {at} = during(obs, 'bundle-mismatch')
    inject(obs, at + 500, report('b7f1c3a0-1a2b-4c3d-9e5f-6a7b8c9d0e1a', 'installing'))
    expect(failing(obs)).toEqual(['fixture-bundle-mismatch'])
    expect(detailOf(obs, 'fixture-bundle-mismatch')).toContain('A installed → installing')
  })

  test('downloading what a sha512: manifest names fails the unsupported-digest check; the mismatch fixtures may download', () => {
    const obs = wellBehavedRun()
    const {at, step} = during(obs, 'unsupported-digest')
    inject(obs, at + 500, {route: 'bundle', method: 'GET', path: step.manifest!.bundleUrl!, status: 200})
    expect(failing(obs)).toEqual(['fixture-unsupported-digest'])
    expect(step.manifest!.bundleUrl).toContain('/bundles/sha512:')
  })

  test('ignoring a manifest with wrong sizeBytes fails the wrong-size check', () => {
    const obs = wellBehavedRun()
    const {step} = during(obs, 'wrong-size')
    const next = obs.steps[obs.steps.indexOf(step) + 1]!
    obs.requests = obs.requests.filter(r => !(r.route === 'status' && r.at >= step.startedAt && r.at < next.startedAt))
    expect(failing(obs)).toContain('fixture-wrong-size')
    expect(detailOf(obs, 'fixture-wrong-size')).toContain('was not adopted')
  })

  test('one unsigned request after onboarding fails the signature check', () => {
    const obs = wellBehavedRun()
    const poll = obs.requests.find(r => r.route === 'manifest')!
    poll.signature = {ok: false, reason: 'missing: Signature and Signature-Input headers are required'}
    expect(failing(obs)).toEqual(['signatures'])
    expect(detailOf(obs, 'signatures')).toContain(`GET /api/v1/clients/${CLIENT}/deployments`)
  })

  test('a poll without If-None-Match after the first manifest fails that check', () => {
    const obs = wellBehavedRun()
    obs.requests.filter(r => r.route === 'manifest')[3]!.ifNoneMatch = null
    expect(failing(obs)).toEqual(['if-none-match'])
  })

  test('a removal reported without removing fails the lifecycle of that deployment', () => {
    const obs = wellBehavedRun()
    obs.requests = obs.requests.filter(r => !(r.route === 'status' && r.report?.state === 'removing'))
    expect(failing(obs)).toEqual(['lifecycle-a'])
    expect(detailOf(obs, 'lifecycle-a')).toContain('step remove-a: reported [removed]')
  })

  test('status reports naming other components fail the components check', () => {
    const obs = wellBehavedRun()
    obs.requests.find(r => r.route === 'status')!.report!.components = [{name: 'app-component-1', state: 'pending'}]
    expect(failing(obs)).toEqual(['status-components'])
  })

  test('capabilities that break the rule set fail the capabilities check', () => {
    const obs = wellBehavedRun()
    obs.requests.find(r => r.route === 'capabilities')!.capabilities = {problems: ['capabilities-012: properties.resources.cpu.architecture must be one of …']}
    expect(failing(obs)).toEqual(['capabilities-body'])
  })

  test('the untrusted listener: passing TLS fails, never trying is skipped, and a skip does not fail the run', () => {
    const obs = wellBehavedRun()
    obs.untrusted = {connections: 1, requests: 1}
    expect(statusOf(obs)['untrusted-listener']).toBe('FAIL')
    obs.untrusted = {connections: 0, requests: 0}
    const verdict = judge(obs)
    expect(statusOf(obs)['untrusted-listener']).toBe('SKIP')
    expect(verdict.passed).toBe(true)
    expect(verdict.summary).toEqual({pass: 14, fail: 0, skip: 1})
  })

  test('without any agent every check that needs one fails', () => {
    const obs = wellBehavedRun()
    obs.clientId = null
    const verdict = judge(obs)
    expect(verdict.passed).toBe(false)
    expect(verdict.checks.filter(c => c.id !== 'untrusted-listener').every(c => c.status === 'FAIL')).toBe(true)
  })
})
