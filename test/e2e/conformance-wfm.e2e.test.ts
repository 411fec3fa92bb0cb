import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createCertificateAuthority, issueServerCertificate} from '../../src/pki/index.ts'
import {SUITE_FILES, THIRD_PARTY_SUITES} from '../../src/conformance/wfm/run.ts'
import {MANIFEST_MEDIA_TYPE} from '../../src/margo/media-types.ts'
import {createHarness, TestDevice, type Harness} from '../server/harness.ts'
import {conformanceSuites} from '../shared.ts'
import {BIN, ensureBinary, startServe, type ServeProcess} from './binary.ts'

interface Step {suite: string, id: string, result: string, got: string, conflict?: {code: string}}
interface Report {suites: {suite: string, skippedReason?: string, steps: Step[], summary: {total: number, passed: number, conflicts: number, failed: number, skipped: number}}[], preconditions: {id: string, met: boolean}[], cleanup?: {runId: string, ok: boolean, items: {kind: string, id: string, outcome: string}[]}, ok: boolean}
interface DeviceView {clientId: string, enrollment: string, lastSeenAt: string | null, certificate: {subject: string}, labels: Record<string, string>}

/** The Margo project's suites, for the runs of wfm-core, device-supplier and portman. */
const suites = conformanceSuites('test/e2e/conformance-wfm.e2e.test.ts', [...new Set(THIRD_PARTY_SUITES.flatMap(s => SUITE_FILES[s]))])

/** Runs the compiled command without blocking this process, which may itself serve the WFM under test. */
async function conformance(...args: string[]) {
  return conformanceIn(suites?.root, ...args)
}

/** The same, with MARGO_CONFORMANCE_DIR set to `suitesDir`. */
async function conformanceIn(suitesDir: string | undefined, ...args: string[]) {
  const env = {...process.env, NO_COLOR: '1', ...(suitesDir !== undefined ? {MARGO_CONFORMANCE_DIR: suitesDir} : {})}
  const proc = Bun.spawn([BIN, 'conformance', 'wfm', ...args], {stdout: 'pipe', stderr: 'pipe', env})
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return {code, stdout, stderr, json: () => JSON.parse(stdout) as Report}
}

const suite = (report: Report, name: string) => report.suites.find(s => s.suite === name)!
const ids = (report: Report, name: string, result: string) => suite(report, name).steps.filter(s => s.result === result).map(s => s.id).sort()

/** GET on the operator API of a running margo serve. */
function operatorGet(server: ServeProcess) {
  const token = readFileSync(join(server.dataDir, 'operator-token'), 'utf8').trim()
  return async <T = Record<string, unknown[]>>(path: string) => (await fetch(new URL(`/operator/v1${path}`, server.url), {headers: {authorization: `Bearer ${token}`}, tls: {ca: server.ca}})).json() as Promise<T>
}

/** What a run may leave on the WFM: nothing but revoked devices and the published sample app. */
async function expectNothingLeftBehind(server: ServeProcess) {
  const get = operatorGet(server)
  expect((await get('/rollouts')).rollouts).toEqual([])
  expect((await get('/denylist')).entries).toEqual([])
  expect(((await get('/deployments')).deployments as {desired: string}[]).filter(d => d.desired === 'present')).toEqual([])
  const devices = (await get<{devices: DeviceView[]}>('/devices')).devices.filter(d => d.certificate.subject.includes('margo-conformance-'))
  expect(devices.length).toBeGreaterThan(0)
  expect(devices.filter(d => d.enrollment !== 'revoked' || !d.labels['margo-conformance-run'])).toEqual([])
}

/** The documented conflicts (docs/conformance.md) of our WFM under open enrolment with zero default deployments. */
const WFM_CORE_CONFLICTS = ['bundle-304', 'bundle-400', 'invalid-deployment-types-422', 'invalid-runtimes-422', 'onboarding-403', 'status-200']
const DEVICE_SUPPLIER_CONFLICTS = ['step-2.1', 'step-2.2', 'step-3.7']

/** The spec suite's checks, by rule (docs/conformance.md). */
const SPEC_STEPS = 43

describe('margo conformance wfm without the Margo project\'s suites (MARGO_CONFORMANCE_DIR is an empty folder)', () => {
  let server: ServeProcess
  const empty = mkdtempSync(join(tmpdir(), 'margo-no-suites-'))
  beforeAll(async () => { server = await startServe(['--base-path', '/v1alpha2/margo', '--enrollment', 'auto']) })
  afterAll(async () => { await server.stop() })

  test('by default the built-in spec suite runs, and every one of its checks passes', async () => {
    const junit = join(server.dataDir, 'spec.xml')
    const r = await conformanceIn(empty, server.url, '--data-dir', server.dataDir, '--json', '--junit', junit)
    const report = r.json()
    expect(report.suites.map(s => s.suite)).toEqual(['spec'])
    expect(suite(report, 'spec').steps.filter(s => s.result !== 'PASS')).toEqual([])
    expect(suite(report, 'spec').summary).toEqual({total: SPEC_STEPS, passed: SPEC_STEPS, conflicts: 0, failed: 0, skipped: 0})
    expect(suite(report, 'spec').steps.every(s => /^WFM-\d\d/.test(s.id))).toBe(true)
    expect(report.preconditions).toContainEqual(expect.objectContaining({id: 'default-deployment', met: true}))
    expect([r.code, report.ok]).toEqual([0, true])
    expect(readFileSync(junit, 'utf8')).toContain(`<testsuite name="spec" tests="${SPEC_STEPS}" failures="0" skipped="0">`)
    expect(report.cleanup?.ok).toBe(true)
    expect(report.cleanup?.items.filter(i => i.outcome === 'removed').map(i => i.kind)).toEqual(['rollout'])
  }, 60_000)

  test('the run leaves no rollout, deny-list entry, wanted deployment or active device of its own behind', async () => {
    await expectNothingLeftBehind(server)
  })

  test('Ctrl-C while it runs: the run stops, undoes its set-up, says so and exits 130', async () => {
    const get = operatorGet(server)
    const proc = Bun.spawn([BIN, 'conformance', 'wfm', server.url, '--data-dir', server.dataDir, '--json'], {stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1', MARGO_CONFORMANCE_DIR: empty}})
    // The rollout exists once the early checks are done and the late ones wait for its deployment.
    const deadline = Date.now() + 30_000
    while (((await get('/rollouts')).rollouts ?? []).length === 0 && Date.now() < deadline) await Bun.sleep(20)
    proc.kill('SIGINT')
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
    expect(code).toBe(130)
    expect(stderr).toContain('interrupted — undoing the run\'s set-up')
    expect(stderr).toMatch(/^error: interrupted — the run's set-up is undone: removed 1 rollout; revoked \d+ devices? \(labelled margo-conformance-run=/m)
    await expectNothingLeftBehind(server)
  }, 60_000)

  test('a WFM with a live device of its own: refused in one line naming the count and the flag, exit 2; with --allow-live-fleet it runs and leaves the device as it was', async () => {
    const live = await TestDevice.create(server.transport())
    await live.onboard()
    expect((await live.send('GET', '/api/v1/clients/{clientId}/deployments', {headers: {accept: MANIFEST_MEDIA_TYPE}})).status).toBe(200)
    const get = operatorGet(server)
    // The server stores when a device was last seen every few seconds.
    const deadline = Date.now() + 15_000
    while (!(await get<{devices: DeviceView[]}>('/devices')).devices.find(d => d.clientId === live.clientId)?.lastSeenAt && Date.now() < deadline) await Bun.sleep(200)
    const before = {rollouts: (await get('/rollouts')).rollouts, devices: (await get<{devices: DeviceView[]}>('/devices')).devices.length}

    const refused = await conformanceIn(empty, server.url, '--data-dir', server.dataDir)
    expect(refused.code).toBe(2)
    expect(refused.stdout).toBe('')
    expect(refused.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^error: the WFM has 1 live device \(enrolled active, seen in the last hour\) that is not this run's, .* pass --allow-live-fleet to run anyway$/)])
    // Refused before anything was created: no rollout, no device onboarded.
    expect((await get('/rollouts')).rollouts).toEqual(before.rollouts)
    expect((await get<{devices: DeviceView[]}>('/devices')).devices.length).toBe(before.devices)

    const allowed = await conformanceIn(empty, server.url, '--data-dir', server.dataDir, '--allow-live-fleet', '--json')
    expect([allowed.code, allowed.json().ok]).toEqual([0, true])
    await expectNothingLeftBehind(server)
    expect((await get<{devices: DeviceView[]}>('/devices')).devices.find(d => d.clientId === live.clientId)).toMatchObject({enrollment: 'active', labels: {}})
  }, 90_000)

  test('a third-party suite asked for but absent: one line saying what is missing and how to get it, exit 2', async () => {
    for (const args of [['--suite', 'wfm-core'], ['--suite', 'all']]) {
      const r = await conformanceIn(empty, server.url, '--data-dir', server.dataDir, ...args)
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trimEnd().split('\n')).toEqual([
        `error: the wfm-core suite needs conformance/testcases/wfm-core/postman_collection.json, which ${empty} does not have: pass --suites DIR or set MARGO_CONFORMANCE_DIR to a checkout of the Margo project's sandbox repository (the folder that holds conformance/, conformance-2/ and conformance-backups/)`,
      ])
    }
    const none = await conformanceIn('', server.url, '--suite', 'device-supplier')
    expect([none.code, none.stderr.trimEnd().split('\n').length]).toEqual([2, 1])
    expect(none.stderr).toContain('the device-supplier suite needs the Margo conformance suites, and none were given: pass --suites DIR or set MARGO_CONFORMANCE_DIR')
  }, 60_000)

  test('margo conformance agent without the suites: the same one line, exit 2', async () => {
    const proc = Bun.spawn([BIN, 'conformance', 'agent', '--run-ours', '--suites', empty], {stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'}})
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
    expect(code).toBe(2)
    expect(stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^error: margo conformance agent needs conformance-2\/Data-Generator\/device-supplier\/assertions\.json \(and 4 more files\), which .* does not have: pass --suites DIR or set MARGO_CONFORMANCE_DIR/)])
  })
})

describe.skipIf(!suites)('margo conformance wfm against our own compiled server (--base-path /v1alpha2/margo)', () => {
  let server: ServeProcess
  beforeAll(async () => { server = await startServe(['--base-path', '/v1alpha2/margo', '--enrollment', 'auto']) })
  afterAll(async () => { await server.stop() })

  test('wfm-core and device-supplier: every step passes except the documented conflicts', async () => {
    const junit = join(server.dataDir, 'conformance.xml')
    const r = await conformance(server.url, '--ca-file', join(server.dataDir, 'tls/ca.pem'), '--data-dir', server.dataDir,
      '--suite', 'wfm-core', '--suite', 'device-supplier', '--json', '--junit', junit)
    const report = r.json()
    expect(report.preconditions.filter(p => !p.met)).toEqual([])
    // wfm-core runs first, while a new client has no deployment.
    expect(ids(report, 'wfm-core', 'FAIL')).toEqual([])
    expect(ids(report, 'wfm-core', 'CONFLICT')).toEqual(WFM_CORE_CONFLICTS)
    expect(suite(report, 'wfm-core').summary).toEqual({total: 31, passed: 25, conflicts: 6, failed: 0, skipped: 0})
    // device-supplier needs the empty-selector rollout to reach every device onboarded after it
    // (the rollout controller running in margo serve) and the deny-list entry. If steps 3.1 and
    // 6.1 fail here, a new device did not receive the rollout's deployment.
    expect(ids(report, 'device-supplier', 'FAIL')).toEqual([])
    expect(ids(report, 'device-supplier', 'CONFLICT')).toEqual(DEVICE_SUPPLIER_CONFLICTS)
    expect(suite(report, 'device-supplier').summary).toEqual({total: 43, passed: 40, conflicts: 3, failed: 0, skipped: 0})
    expect(report.ok).toBe(true)
    expect(r.code).toBe(0)
    const xml = readFileSync(junit, 'utf8')
    expect(xml).toContain('<testsuite name="wfm-core" tests="31" failures="0" skipped="6">')
    expect(xml).toContain('CONFLICT C17')
  }, 120_000)

  test('the run undoes its set-up: no rollout, deny-list entry or active device of its own is left behind', async () => {
    await expectNothingLeftBehind(server)
  })

  test('--strict turns the documented conflicts into a failed run', async () => {
    const r = await conformance(server.url, '--ca-file', join(server.dataDir, 'tls/ca.pem'), '--suite', 'wfm-core', '--strict')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('conflicts found and --strict is set')
    expect(r.stdout).toContain('wfm-core 25/31 passed, 6 conflicts, 0 failed')
  }, 60_000)

  test('portman is reported as skipped, with the reason, when newman is missing', async () => {
    const report = (await conformance(server.url, '--ca-file', join(server.dataDir, 'tls/ca.pem'), '--suite', 'portman', '--newman', '/nonexistent/newman', '--json')).json()
    expect(report.suites.map(s => [s.suite, s.skippedReason])).toEqual([['portman', 'newman not found at /nonexistent/newman — check --newman']])
  })

  test('without operator access the set-up dependent steps are SKIPPED, not failed', async () => {
    const r = await conformance(server.url, '--ca-file', join(server.dataDir, 'tls/ca.pem'), '--suite', 'device-supplier', '--json')
    const report = r.json()
    expect(ids(report, 'device-supplier', 'FAIL')).toEqual([])
    expect(ids(report, 'device-supplier', 'SKIPPED')).toEqual([
      'step-1.3', 'step-3.1', 'step-3.2', 'step-3.3', 'step-3.4', 'step-3.5', 'step-3.6', 'step-3.7',
      'step-6.1', 'step-6.11', 'step-6.12', 'step-6.4', 'step-6.5', 'step-6.6', 'step-6.7', 'step-6.8', 'step-6.9',
    ])
    expect(r.code).toBe(0)
  }, 60_000)
})

describe.skipIf(!suites)('margo conformance wfm against our server with allow-list enrolment', () => {
  let server: ServeProcess
  beforeAll(async () => { server = await startServe(['--base-path', '/v1alpha2/margo', '--enrollment', 'allowlist']) })
  afterAll(async () => { await server.stop() })

  test('the run pre-registers its own certificates, and refusing a fresh one passes onboarding-403', async () => {
    const report = (await conformance(server.url, '--data-dir', server.dataDir, '--suite', 'wfm-core', '--json')).json()
    expect(report.preconditions).toContainEqual(expect.objectContaining({id: 'preregistration', met: true}))
    expect(ids(report, 'wfm-core', 'FAIL')).toEqual([])
    expect(ids(report, 'wfm-core', 'CONFLICT')).toEqual(WFM_CORE_CONFLICTS.filter(id => id !== 'onboarding-403'))
    expect(suite(report, 'wfm-core').steps.find(s => s.id === 'onboarding-403')?.result).toBe('PASS')
  }, 60_000)
})

/**
 * A deliberately broken WFM: our real application behind a wrapper that answers 400 instead of
 * 401 to a bad signature and marks the manifest immutable.
 */
describe.skipIf(!suites)('margo conformance wfm against a broken WFM', () => {
  let h: Harness
  let server: ReturnType<typeof Bun.serve>
  let caFile: string
  beforeAll(async () => {
    ensureBinary()
    h = await createHarness({basePath: '/v1alpha2/margo'})
    const ca = await createCertificateAuthority({commonName: 'broken WFM CA'})
    const leaf = await issueServerCertificate({caCertPem: ca.certPem, caKeyPem: ca.keyPem, sans: ['127.0.0.1'], commonName: 'broken-wfm'})
    caFile = join(mkdtempSync(join(tmpdir(), 'margo-broken-wfm-')), 'ca.pem')
    writeFileSync(caFile, ca.certPem)
    server = Bun.serve({
      hostname: '127.0.0.1', port: 0, tls: {cert: leaf.certPem, key: leaf.keyPem},
      fetch: async (request) => {
        const res = await h.app.handle(request)
        const headers = new Headers(res.headers)
        let status = res.status
        if (status === 401) status = 400
        if (headers.get('content-type')?.includes('manifest')) headers.set('cache-control', 'public, max-age=31536000, immutable')
        return new Response(res.body, {status, headers})
      },
    })
  })
  afterAll(() => { void server.stop(true); h.close() })

  test('fails loudly, naming the steps', async () => {
    const url = `https://127.0.0.1:${server.port}/v1alpha2/margo`
    const text = await conformance(url, '--ca-file', caFile, '--suite', 'wfm-core')
    expect(text.code).toBe(1)
    expect(text.stdout).toContain('FAIL wfm-core capabilities-post-401')
    expect(text.stdout).toContain('expected 401, got 400')
    expect(text.stdout).toContain('FAIL wfm-core deployments-200')
    expect(text.stdout).toContain('Cache-Control is "public, max-age=31536000, immutable"')
    expect(text.stderr).toMatch(/^error: conformance run against .* failed — \d+ steps failed: .*wfm-core capabilities-post-401/m)

    const report = (await conformance(url, '--ca-file', caFile, '--suite', 'wfm-core', '--json')).json()
    expect(ids(report, 'wfm-core', 'FAIL')).toEqual([
      // 400 instead of 401 breaks the bad-signature and the unknown-key steps; immutable breaks both manifest steps.
      'capabilities-post-401', 'capabilities-post-403', 'capabilities-put-401', 'capabilities-put-403',
      'deployments-200', 'no-accept-200', 'status-401', 'status-403',
    ])
  }, 60_000)
})
