import {describe, expect, test} from 'bun:test'
import {createHash} from 'node:crypto'
import {conformanceSuites} from '../../shared.ts'
import {wireResponse} from '../../../src/conformance/common/exchange.ts'
import {judge} from '../../../src/conformance/wfm/evaluate.ts'
import {coreSteps, extractCore, MANIFEST_CHECKS, prepareCoreStep, WFM_CORE_COLLECTION, type CoreContext, type PostmanCollection} from '../../../src/conformance/wfm/wfm-core.ts'

const suites = conformanceSuites('test/unit/conformance-wfm/wfm-core.test.ts', [WFM_CORE_COLLECTION])
const steps = suites ? coreSteps(suites.json<PostmanCollection>(WFM_CORE_COLLECTION)) : []
const step = (id: string) => {
  const s = steps.find(x => x.id === id)
  if (!s) throw new Error(`no step ${id}`)
  return s
}
const env = {baseUrl: 'https://wfm.test/v1alpha2/margo', ownCertificate: 'T1dO', freshCertificate: 'RlJFU0g=', nonce: 'n1'}
const ctx: CoreContext = {clientId: 'c-1', deviceId: 'c-1'}
const json = (status: number, body: unknown, headers: Record<string, string> = {}) => wireResponse(status, {'content-type': 'application/json', ...headers}, JSON.stringify(body))

describe.skipIf(!suites)('wfm-core steps from the collection', () => {
  test('11 requests give 31 steps, every 2xx example before every error example', () => {
    expect(steps).toHaveLength(31)
    const firstError = steps.findIndex(s => s.code >= 300)
    expect(steps.slice(0, firstError).every(s => s.code < 300)).toBe(true)
    expect(steps.slice(firstError).every(s => s.code >= 300)).toBe(true)
    expect(steps.slice(0, firstError).map(s => s.id)).toEqual([
      'ca-200', 'onboarding-201', 'capabilities-post-201', 'capabilities-put-201', 'bundle-200', 'deployments-200', 'yaml-200', 'status-200', 'no-accept-200',
    ])
    expect(new Set(steps.map(s => s.id)).size).toBe(31)
  })

  test('each error example gets its trigger', () => {
    expect(prepareCoreStep(step('capabilities-post-400'), ctx, env).signing).toBe('own-no-digest')
    expect(prepareCoreStep(step('status-401'), ctx, env).signing).toBe('own-flipped')
    expect(prepareCoreStep(step('capabilities-put-403'), ctx, env).signing).toBe('stranger')
    const garbage = prepareCoreStep(step('onboarding-400'), ctx, env)
    expect(garbage.signing).toBe('none')
    expect(JSON.parse(garbage.request.body!).certificate).toBe('INVALID_NOT_A_PEM_CERTIFICATE-n1')
    const fresh = prepareCoreStep(step('onboarding-403'), ctx, env)
    expect(fresh.signing).toBe('fresh')
    expect(JSON.parse(fresh.request.body!).certificate).toBe('RlJFU0g=')
    expect(prepareCoreStep(step('deployments-304'), ctx, env).request.headers['if-none-match']).toBe('*')
    expect(prepareCoreStep(step('deployments-406'), ctx, env).request.headers['accept']).toBe('text/plain')
    expect(prepareCoreStep(step('no-accept-200'), ctx, env).request.headers).toEqual({})
    const invalid = JSON.parse(prepareCoreStep(step('capabilities-post-422'), ctx, env).request.body!)
    expect(invalid.properties.supportedDeploymentTypes).toEqual(['__invalid_deployment_type__'])
    const state = JSON.parse(prepareCoreStep(step('status-422'), ctx, env).request.body!)
    expect(state.status.state).toBe('__invalid_state__')
  })

  test('URLs use the context, with the suite\'s fallbacks for what the WFM never handed out', () => {
    expect(prepareCoreStep(step('bundle-404'), ctx, env).request.url).toBe(`https://wfm.test/v1alpha2/margo/api/v1/clients/c-1/bundles/sha256:${'0'.repeat(64)}`)
    expect(prepareCoreStep(step('yaml-404'), ctx, env).request.url).toBe(`https://wfm.test/v1alpha2/margo/api/v1/clients/c-1/deployments/deployment-none-00000000/sha256:${'0'.repeat(64)}`)
    const withDeployment = {...ctx, deploymentId: 'd-1', deploymentDigest: `sha256:${'a'.repeat(64)}`, bundleDigest: `sha256:${'b'.repeat(64)}`}
    expect(prepareCoreStep(step('bundle-304'), withDeployment, env).request.url).toEndWith(`/bundles/sha256:${'b'.repeat(64)}`)
    expect(prepareCoreStep(step('invalid-runtimes-422'), ctx, env).request.url).toEndWith('/clients/c-1/capabilities/c-1')
  })

  test('onboarding and the manifest feed the context', () => {
    const onboarded = extractCore(step('onboarding-201'), json(201, {clientId: 'abc'}), {})
    expect(onboarded).toEqual({clientId: 'abc', deviceId: 'abc'})
    const manifest = {manifestVersion: 2, bundle: {digest: 'sha256:b'}, deployments: [{deploymentId: 'd', digest: 'sha256:d'}]}
    expect(extractCore(step('deployments-200'), json(200, manifest), onboarded)).toMatchObject({deploymentId: 'd', deploymentDigest: 'sha256:d', bundleDigest: 'sha256:b'})
    // An error answer never overwrites what the context holds.
    expect(extractCore(step('onboarding-201'), json(400, {clientId: 'x'}), onboarded)).toBe(onboarded)
  })
})

describe.skipIf(!suites)('judging wfm-core answers', () => {
  test('a 400 where the suite wants 401 for a bad signature fails, naming the codes', () => {
    const v = judge(prepareCoreStep(step('capabilities-post-401'), ctx, env).expectation, json(400, {error: 'Missing or invalid content-digest header'}))
    expect(v.result).toBe('FAIL')
    expect(v.got).toBe('400')
    expect(v.reason).toContain('expected status 401, got 400 (Missing or invalid content-digest header)')
  })

  test('unknown-key steps accept 401 or 403', () => {
    const e = prepareCoreStep(step('status-403'), ctx, env).expectation
    expect(judge(e, json(401, {})).result).toBe('PASS')
    expect(judge(e, json(403, {})).result).toBe('PASS')
    expect(judge(e, json(404, {})).result).toBe('FAIL')
  })

  test('bundle 400 and 404 send the same request: 404 is a conflict for the 400 step, a pass for the 404 step', () => {
    const res = json(404, {error: 'Bundle not found'})
    const v400 = judge(prepareCoreStep(step('bundle-400'), ctx, env).expectation, res)
    expect(v400.result).toBe('CONFLICT')
    expect(v400.conflict?.code).toBe('C17')
    expect(judge(prepareCoreStep(step('bundle-404'), ctx, env).expectation, res).result).toBe('PASS')
    // A conflict only excuses the answer the specification requires: a 500 is still a failure.
    expect(judge(prepareCoreStep(step('bundle-400'), ctx, env).expectation, json(500, {})).result).toBe('FAIL')
  })

  test('bundle 304 on "*" is a conflict only while the bundle does not exist', () => {
    expect(judge(prepareCoreStep(step('bundle-304'), ctx, env).expectation, json(404, {})).result).toBe('CONFLICT')
    const withBundle = {...ctx, bundleDigest: `sha256:${'b'.repeat(64)}`}
    expect(judge(prepareCoreStep(step('bundle-304'), withBundle, env).expectation, json(404, {})).result).toBe('FAIL')
  })

  test('onboarding a fresh certificate: 201 is a conflict under open enrolment, a failure under an allow-list', () => {
    const created = json(201, {clientId: 'x'})
    expect(judge(prepareCoreStep(step('onboarding-403'), ctx, env).expectation, created).result).toBe('CONFLICT')
    expect(judge(prepareCoreStep(step('onboarding-403'), {...ctx, enrollment: 'allowlist'}, env).expectation, created).result).toBe('FAIL')
    expect(judge(prepareCoreStep(step('onboarding-403'), {...ctx, enrollment: 'allowlist'}, env).expectation, json(403, {})).result).toBe('PASS')
  })

  test('the {deviceId} capabilities route: 404 is a conflict, accepting the invalid enum is a failure', () => {
    const e = prepareCoreStep(step('invalid-deployment-types-422'), ctx, env).expectation
    expect(judge(e, json(404, {})).conflict?.code).toBe('C13')
    expect(judge(e, json(201, {})).result).toBe('FAIL')
    expect(judge(e, json(422, {errors: []})).result).toBe('PASS')
  })
})

describe('manifest checks (MI-009/015/031/034/035)', () => {
  const body = '{"bundle":null,"deployments":[],"manifestVersion":1}'
  const etag = `"sha256:${createHash('sha256').update(body).digest('hex')}"`
  const manifest = (headers: Record<string, string>, text = body) => wireResponse(200, {'content-type': 'application/vnd.margo.manifest.v1+json', ...headers}, text)
  const run = (res: ReturnType<typeof manifest>) => judge({statuses: [200], checks: MANIFEST_CHECKS}, res)

  test('a spec manifest passes', () => {
    expect(run(manifest({etag, 'cache-control': 'private, no-cache'})).result).toBe('PASS')
  })

  test('an immutable manifest fails MI-035', () => {
    const v = run(manifest({etag, 'cache-control': 'public, max-age=31536000, immutable'}))
    expect(v.result).toBe('FAIL')
    expect(v.reason).toContain('Cache-Control is "public, max-age=31536000, immutable"')
  })

  test('an ETag that is not the digest of the bytes sent fails MI-015 (a trailing newline is enough)', () => {
    const v = run(manifest({etag}, `${body}\n`))
    expect(v.result).toBe('FAIL')
    expect(v.reason).toContain('but the body digest is')
  })

  test('an ETag in another form fails MI-034, and no deployments with no bundle member fails MI-009', () => {
    expect(run(manifest({etag: '"abc"'})).reason).toContain('ETag is ""abc""')
    const noBundle = '{"deployments":[],"manifestVersion":1}'
    const v = run(manifest({etag: `"sha256:${createHash('sha256').update(noBundle).digest('hex')}"`}, noBundle))
    expect(v.reason).toContain('bundle is missing with no deployments')
  })
})
