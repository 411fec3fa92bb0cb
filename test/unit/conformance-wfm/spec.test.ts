import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import {wireResponse, type WireRequest, type WireResponse} from '../../../src/conformance/common/exchange.ts'
import {freshIdentity} from '../../../src/conformance/common/identity.ts'
import {chooseSuites} from '../../../src/conformance/wfm/run.ts'
import {bundlePresenceFinding, canonicalFinding, manifestCachingFinding, manifestEtagFinding, SPEC_CHECKS, SpecRun} from '../../../src/conformance/wfm/spec.ts'
import {startRolloutController} from '../../../src/server/rollouts/index.ts'
import {createLogger} from '../../../src/util/log.ts'
import {createHarness, HELLO_WORLD, type Harness} from '../../server/harness.ts'

let h: Harness
let stopRollouts: () => void
beforeEach(async () => {
  h = await createHarness()
  stopRollouts = startRolloutController({store: h.store, events: h.events, log: createLogger({level: 'error', write: () => {}}), now: () => new Date()})
  expect((await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})).status).toBe(201)
})
afterEach(() => { stopRollouts(); h.close() })

/** Our WFM in this process, optionally with its answers rewritten. */
function sender(rewrite: (res: Response, req: WireRequest) => Response = res => res) {
  return async (req: WireRequest): Promise<WireResponse> => {
    const res = rewrite(await h.app.handle(new Request(req.url, {method: req.method, headers: req.headers, ...(req.body !== undefined ? {body: req.body} : {})})), req)
    const headers: Record<string, string> = {}
    res.headers.forEach((v, k) => { headers[k] = v })
    return wireResponse(res.status, headers, new Uint8Array(await res.arrayBuffer()))
  }
}

/** Runs both parts; the deployment every new client gets is a rollout of hello-world with an empty selector. */
async function runSpec(send = sender()) {
  const run = new SpecRun({
    baseUrl: h.base, send, early: await freshIdentity(), late: await freshIdentity(), stranger: await freshIdentity(),
    givenKeys: false, emit: () => {}, sendTrusting: () => send, deploymentWaitMs: 2000,
  })
  await run.early()
  expect((await h.operator('POST', '/rollouts', {appId: 'com-northstartida-hello-world', selector: ''})).status).toBe(201)
  await run.late({met: true, detail: 'rollout'})
  return run.report()
}

const failed = (report: Awaited<ReturnType<typeof runSpec>>) => report.steps.filter(s => s.result === 'FAIL').map(s => s.id).sort()

describe('the built-in spec suite', () => {
  test('every check of the suite runs and passes against our own WFM', async () => {
    const report = await runSpec()
    expect(report.steps.filter(s => s.result !== 'PASS').map(s => `${s.id} ${s.result} ${s.got} ${s.reason ?? ''}`)).toEqual([])
    expect(report.steps.map(s => s.id).sort()).toEqual(Object.keys(SPEC_CHECKS).sort())
    // Each step is named by its rule.
    expect(report.steps.every(s => /^WFM-\d\d(\.\d+)?$/.test(s.id))).toBe(true)
  })

  test('a WFM that answers 400 instead of 401 and caches its manifest forever fails exactly those checks', async () => {
    const report = await runSpec(sender(res => {
      const headers = new Headers(res.headers)
      if (headers.get('content-type')?.includes('manifest')) headers.set('cache-control', 'public, max-age=31536000, immutable')
      return new Response(res.body, {status: res.status === 401 ? 400 : res.status, headers})
    }))
    expect(failed(report)).toEqual(['WFM-08', 'WFM-11.1', 'WFM-13.1', 'WFM-13.2', 'WFM-16.1', 'WFM-16.2', 'WFM-24', 'WFM-51'])
    const step = report.steps.find(s => s.id === 'WFM-13.1')!
    expect(step.reason).toBe('expected status 401, got 400')
    expect(step.request?.url).toEndWith('/deployments')
  })

  test('a WFM whose bundle is not the bytes of its digest fails WFM-32.3 and WFM-29', async () => {
    const report = await runSpec(sender((res, req) => (req.url.includes('/bundles/sha256:') && res.status === 200
      ? new Response(new Uint8Array([1, 2, 3]), {status: 200, headers: res.headers})
      : res)))
    expect(failed(report)).toEqual(['WFM-29', 'WFM-32.3'])
  })

  test('without a deployment for new clients the late checks are skipped, saying why', async () => {
    const run = new SpecRun({baseUrl: h.base, send: sender(), early: await freshIdentity(), late: await freshIdentity(), stranger: await freshIdentity(), givenKeys: false, emit: () => {}, sendTrusting: () => sender()})
    await run.late({met: false, detail: 'no operator access'})
    const report = run.report()
    expect(report.summary.skipped).toBe(report.summary.total)
    expect(report.steps[0]!.reason).toBe('precondition unmet: every new client gets a deployment (no operator access)')
  })
})

describe('spec findings on crafted answers', () => {
  const res = (text: string, headers: Record<string, string> = {}) => wireResponse(200, headers, text)

  test('WFM-25: key order and whitespace make a body non-canonical', () => {
    expect(canonicalFinding(res('{"bundle":null,"deployments":[],"manifestVersion":1}')).problems).toEqual([])
    expect(canonicalFinding(res('{"manifestVersion":1,"bundle":null,"deployments":[]}')).problems).toHaveLength(1)
    expect(canonicalFinding(res('{"bundle": null,"deployments":[],"manifestVersion":1}')).problems).toHaveLength(1)
  })

  test('WFM-22/24: the ETag must hash the body; immutable or a long max-age is refused', () => {
    const body = '{"bundle":null,"deployments":[],"manifestVersion":1}'
    expect(manifestEtagFinding(res(body, {etag: '"sha256:d5a2c4a4b7e8ffc63e6b1f0ce2ee8f2a3c8b95c2c3a3a3f1c5e0e1e3c1a1b1c1"'})).problems).toHaveLength(1)
    expect(manifestCachingFinding(res(body, {'cache-control': 'no-cache'})).problems).toEqual([])
    expect(manifestCachingFinding(res(body, {'cache-control': 'max-age=3600'})).problems).toEqual(['Cache-Control max-age is 3600 s'])
  })

  test('WFM-28: bundle null exactly when deployments is empty', () => {
    expect(bundlePresenceFinding({bundle: null, deployments: []}).problems).toEqual([])
    expect(bundlePresenceFinding({deployments: []}).problems).toEqual(['the manifest has no bundle member'])
    expect(bundlePresenceFinding({bundle: null, deployments: [{deploymentId: 'a', digest: 'd', url: 'u'}]}).problems).toHaveLength(1)
  })
})

describe('choosing suites', () => {
  test('by default spec, plus every third-party suite that is available; --suite selects; all is every suite', () => {
    expect(chooseSuites(undefined, () => false)).toEqual(['spec'])
    expect(chooseSuites([], s => s !== 'portman')).toEqual(['spec', 'wfm-core', 'device-supplier'])
    expect(chooseSuites(['wfm-core'], () => false)).toEqual(['wfm-core'])
    expect(chooseSuites(['all'], () => false)).toEqual(['spec', 'wfm-core', 'device-supplier', 'portman'])
  })
})
