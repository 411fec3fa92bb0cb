import {describe, expect, test} from 'bun:test'
import {conformanceSuites} from '../../shared.ts'
import {wireResponse} from '../../../src/conformance/common/exchange.ts'
import {
  DEVICE_SCENARIOS, artifactUrl, denyListValues, extractScenario, prepareScenarioStep, reviewManifest, stepPreconditions,
  validationCheck, type Scenario, type ScenarioStep,
} from '../../../src/conformance/wfm/device-supplier.ts'
import {judge} from '../../../src/conformance/wfm/evaluate.ts'

const suites = conformanceSuites('test/unit/conformance-wfm/device-supplier.test.ts', [DEVICE_SCENARIOS])
const scenarios = suites?.json<Scenario[]>(DEVICE_SCENARIOS) ?? []
const all = scenarios.flatMap(s => s.steps)
const step = (id: string): ScenarioStep => {
  const s = all.find(x => x.id === id)
  if (!s) throw new Error(`no step ${id}`)
  return s
}
const env = {baseUrl: 'https://wfm.test/v1alpha2/margo/', certificate: 'QkFTRTY0UEVN'}
const json = (status: number, body: unknown, headers: Record<string, string> = {}) => wireResponse(status, {'content-type': 'application/json', ...headers}, JSON.stringify(body))

describe.skipIf(!suites)('device-supplier scenarios', () => {
  test('7 scenarios with 43 steps', () => {
    expect(scenarios).toHaveLength(7)
    expect(all).toHaveLength(43)
  })

  test('preconditions: the deny-listed literal, and a deployment for steps that read one', () => {
    expect(denyListValues(scenarios)).toEqual(['rnd-key-7f3a91b2c4d8e6'])
    expect(stepPreconditions(step('step-1.3'))).toEqual(['deny-list'])
    expect(stepPreconditions(step('step-3.1'))).toEqual(['default-deployment'])
    expect(stepPreconditions(step('step-6.1'))).toEqual(['default-deployment'])
    expect(stepPreconditions(step('step-6.2'))).toEqual([])
    const needing = all.filter(s => stepPreconditions(s).length > 0).map(s => s.id)
    expect(needing).toEqual(['step-1.3', 'step-3.1', 'step-6.1'])
  })

  test('the certificate path is replaced by the run\'s certificate, a literal is kept', () => {
    const onboard = prepareScenarioStep(step('step-1.2'), {}, env)
    if (onboard.kind !== 'ready') throw new Error('unresolved')
    expect(JSON.parse(onboard.request.body!).certificate).toBe('QkFTRTY0UEVN')
    expect(onboard.request.url).toBe('https://wfm.test/v1alpha2/margo/api/v1/onboarding')
    expect(onboard.sign).toBe(true)
    const denied = prepareScenarioStep(step('step-1.3'), {}, env)
    if (denied.kind !== 'ready') throw new Error('unresolved')
    expect(JSON.parse(denied.request.body!).certificate).toBe('rnd-key-7f3a91b2c4d8e6')
    expect(prepareScenarioStep(step('step-4.4'), {}, env)).toMatchObject({kind: 'ready', sign: false})
  })

  test('placeholders come from the context; missing ones are reported instead of sent', () => {
    expect(prepareScenarioStep(step('step-3.5'), {clientId: 'c'}, env)).toEqual({kind: 'unresolved', missing: ['deploymentId', 'deploymentDigest']})
    const ready = prepareScenarioStep(step('step-3.5'), {clientId: 'c', deploymentId: 'd', deploymentDigest: 'sha256:x'}, env)
    if (ready.kind !== 'ready') throw new Error('unresolved')
    expect(ready.request.url).toEndWith('/api/v1/clients/c/deployments/d/sha256:x')
    // The validation value is substituted too: the ETag must contain the digest itself.
    expect(judge(ready.expectation, wireResponse(200, {'content-type': 'application/yaml', 'cache-control': 'private, immutable', vary: 'Accept-Encoding', etag: '"sha256:x"'}, 'a: 1')).result).toBe('PASS')
    expect(judge(ready.expectation, wireResponse(200, {'content-type': 'application/yaml', 'cache-control': 'private, immutable', etag: '"sha256:x"'}, 'a: 1')).reason).toContain('_headers.Vary is missing')
  })

  test('step headers are applied after signing (an empty Content-Digest)', () => {
    const p = prepareScenarioStep(step('step-5.5'), {clientId: 'c'}, env)
    if (p.kind !== 'ready') throw new Error('unresolved')
    expect(p.afterSigning).toEqual({'content-digest': ''})
    expect(p.sign).toBe(true)
  })

  test('a success body the specification does not define is a conflict, a wrong status is not', () => {
    const p = prepareScenarioStep(step('step-2.1'), {clientId: 'c'}, env)
    if (p.kind !== 'ready') throw new Error('unresolved')
    const empty = judge(p.expectation, wireResponse(201, {}, ''))
    expect(empty.result).toBe('CONFLICT')
    expect(empty.conflict?.code).toBe('C16')
    expect(judge(p.expectation, json(201, {status: 'capabilities_received'})).result).toBe('PASS')
    expect(judge(p.expectation, wireResponse(200, {}, '')).result).toBe('FAIL')
    // An error body check on an error step is never excused.
    const q = prepareScenarioStep(step('step-5.6'), {clientId: 'c'}, env)
    if (q.kind !== 'ready') throw new Error('unresolved')
    expect(judge(q.expectation, json(401, {error: 'Unauthorized'})).result).toBe('FAIL')
    expect(judge(q.expectation, json(401, {error: 'Signature verification failed'})).result).toBe('PASS')
  })

  test('context extraction reads body paths and headers case-insensitively', () => {
    const res = json(200, {bundle: {digest: 'sha256:b'}, deployments: [{deploymentId: 'd', digest: 'sha256:d'}], manifestVersion: 3}, {ETag: '"sha256:m"'})
    expect(extractScenario(step('step-3.1'), res, {clientId: 'c'})).toEqual({clientId: 'c', manifestEtag: '"sha256:m"', bundleDigest: 'sha256:b', deploymentId: 'd', deploymentDigest: 'sha256:d'})
  })

  test('validation operations', () => {
    const res = json(200, {a: 'xyz', n: 0, arr: [], obj: {k: 1}, nil: null})
    const ok = (field: string, operation: string, value?: unknown) => validationCheck({field, operation, ...(value !== undefined ? {value} : {})}).check(res) === null
    expect(ok('a', 'contains', 'y')).toBe(true)
    expect(ok('a', 'equals', 'xyz')).toBe(true)
    expect(ok('n', 'equals', '0')).toBe(true)
    expect(ok('n', 'is_number')).toBe(true)
    expect(ok('a', 'is_number')).toBe(false)
    expect(ok('arr', 'is_array')).toBe(true)
    expect(ok('arr', 'not_empty')).toBe(false)
    expect(ok('obj', 'is_object')).toBe(true)
    expect(ok('nil', 'exists')).toBe(false)
    expect(ok('missing', 'exists')).toBe(false)
    expect(validationCheck({field: 'a', operation: 'matches'}).check(res)).toContain('unknown validation operation')
  })
})

describe('client-side manifest review', () => {
  const d = (c: string) => `sha256:${c.repeat(64)}`
  test('a manifest version that does not increase is rejected (MI-010)', () => {
    expect(reviewManifest({manifestVersion: 3, bundle: null, deployments: []}, 3).problems).toEqual(['manifestVersion 3 is not above the last accepted 3'])
    expect(reviewManifest({manifestVersion: 4, bundle: null, deployments: []}, 3).problems).toEqual([])
  })
  test('digests must be sha256 (MI-008); every referenced artifact is listed for download', () => {
    const r = reviewManifest({manifestVersion: 1, bundle: {digest: d('a'), url: '/api/v1/clients/c/bundles/x'}, deployments: [{deploymentId: 'x', digest: `sha512:${'a'.repeat(128)}`, url: '/y'}]}, undefined)
    expect(r.problems).toHaveLength(1)
    expect(r.problems[0]).toContain('sha512')
    expect(r.artifacts).toEqual([{url: '/api/v1/clients/c/bundles/x', digest: d('a')}])
  })
  test('relative URLs are appended to the base, keeping its path prefix', () => {
    expect(artifactUrl('https://w/v1alpha2/margo/', '/api/v1/x')).toBe('https://w/v1alpha2/margo/api/v1/x')
  })
})
