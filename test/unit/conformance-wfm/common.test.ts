import {describe, expect, test} from 'bun:test'
import {createPublicKey} from 'node:crypto'
import {parseApplicationDescription} from '../../../src/margo/package/description.ts'
import {verifyRequest} from '../../../src/signing/index.ts'
import {conformanceSuites} from '../../shared.ts'
import {freshIdentity, givenIdentity} from '../../../src/conformance/common/identity.ts'
import {junitXml, runFailed, suiteReport, summaryLine, type StepResult} from '../../../src/conformance/common/report.ts'
import {flipSignatureByte, signWire, type SigningProfile} from '../../../src/conformance/common/signing.ts'
import {conformanceAppDescription, SAMPLE_COMPOSE_APP} from '../../../src/conformance/wfm/preconditions.ts'
import {patchCollection, PORTMAN_COLLECTION, upstreamUrl} from '../../../src/conformance/wfm/portman.ts'
import {normaliseBaseUrl} from '../../../src/conformance/wfm/run.ts'
import {privateKeyToPem} from '../../../src/signing/index.ts'

const step = (id: string, result: StepResult['result'], extra: Partial<StepResult> = {}): StepResult =>
  ({suite: 'wfm-core', id, name: `step ${id}`, result, expected: '401', got: result === 'FAIL' ? '400' : '401', ...extra})

describe('reports', () => {
  const report = suiteReport('wfm-core', [
    step('a', 'PASS'), step('b', 'PASS'),
    step('c', 'CONFLICT', {reason: 'route <not> in G1', conflict: {code: 'C13', spec: 'G1 §E3'}}),
    step('d', 'FAIL', {reason: 'expected status 401, got 400', request: {method: 'POST', url: 'https://w/x', headers: {a: 'b'}, body: '{"x":1}'}, response: {status: 400, headers: {}, body: '{"error":"bad & worse"}'}}),
    step('e', 'SKIPPED', {reason: 'precondition unmet'}),
  ])

  test('the summary line counts each outcome', () => {
    expect(summaryLine(report)).toBe('wfm-core 2/5 passed, 1 conflict, 1 failed, 1 skipped')
    expect(summaryLine(suiteReport('portman', [], 'newman is not installed'))).toBe('portman skipped: newman is not installed')
  })

  test('a FAIL fails the run; a CONFLICT only under --strict', () => {
    expect(runFailed([report], false)).toBe(true)
    const clean = suiteReport('x', [step('a', 'PASS'), step('c', 'CONFLICT')])
    expect(runFailed([clean], false)).toBe(false)
    expect(runFailed([clean], true)).toBe(true)
  })

  test('JUnit: a failure carries the exchange, a conflict is skipped with its reason, XML is escaped', () => {
    const xml = junitXml([report, suiteReport('portman', [], 'newman is not installed')])
    expect(xml).toContain('<testsuites name="margo conformance" tests="6" failures="1" skipped="3">')
    expect(xml).toContain('<testsuite name="wfm-core" tests="5" failures="1" skipped="2">')
    expect(xml).toContain('<skipped message="CONFLICT C13: route &lt;not&gt; in G1 (G1 §E3)"/>')
    expect(xml).toMatch(/<failure message="expected 401, got 400 — expected status 401, got 400">&gt; POST https:\/\/w\/x\n/)
    expect(xml).toContain('&lt; {&quot;error&quot;:&quot;bad &amp; worse&quot;}')
    expect(xml).toContain('<testcase classname="portman" name="portman"><skipped message="newman is not installed"/></testcase>')
  })
})

describe('signing profiles', () => {
  const cases: [SigningProfile, string, string[]][] = [
    ['proxy', 'sig', ['@method', '@target-uri', '@authority', 'content-digest']],
    ['ctt', 'sig1', ['@method', '@target-uri', '@authority', 'content-digest']],
    ['scenario', 'sig1', ['@method', '@target-uri', 'content-digest']],
  ]
  for (const [profile, label, covered] of cases) {
    test(`${profile}: label ${label}, covers ${covered.join(' ')}, verifies with the certificate's key`, async () => {
      const id = await freshIdentity()
      const req = await signWire({method: 'POST', url: 'https://127.0.0.1:8443/v1alpha2/margo/api/v1/clients/c/capabilities', headers: {'content-type': 'application/json'}, body: '{"a":1}'}, id, profile)
      expect(req.headers['signature-input']).toStartWith(`${label}=(`)
      expect(req.headers['signature-input']).toContain(profile === 'scenario' ? 'keyid="device-key"' : `keyid="${id.spkiSha256}"`)
      expect(req.headers['signature-input']).not.toContain('alg=')
      const result = await verifyRequest({method: 'POST', url: req.url, headers: req.headers, body: new TextEncoder().encode(req.body!)}, {publicKey: createPublicKey(id.privateKey)})
      expect(result).toMatchObject({ok: true, label, covered})
      const flipped = await verifyRequest({method: 'POST', url: req.url, headers: flipSignatureByte(req.headers), body: new TextEncoder().encode(req.body!)}, {publicKey: createPublicKey(id.privateKey)})
      expect(flipped.ok).toBe(false)
    })
  }

  test('omitting the digest leaves Content-Digest off the wire and out of the signature', async () => {
    const id = await freshIdentity()
    const req = await signWire({method: 'PUT', url: 'https://w/api/v1/x', headers: {}, body: '{}'}, id, 'ctt', {omitDigest: true})
    expect(req.headers['content-digest']).toBeUndefined()
    expect(req.headers['signature-input']).toStartWith('sig1=("@method" "@target-uri" "@authority");')
  })

  test('an explicitly chosen algorithm is announced with alg; a given key must match its certificate', async () => {
    const rsa = await freshIdentity('rsa-pss-sha512', true)
    const req = await signWire({method: 'GET', url: 'https://w/api/v1/x', headers: {}}, rsa, 'scenario')
    expect(req.headers['signature-input']).toContain('alg="rsa-pss-sha512"')
    const other = await freshIdentity()
    expect(() => givenIdentity(privateKeyToPem(other.privateKey), rsa.certPem)).toThrow('does not belong')
    expect(givenIdentity(privateKeyToPem(other.privateKey), other.certPem).alg).toBe('ecdsa-p256-sha256')
  })
})

const suites = conformanceSuites('test/unit/conformance-wfm/common.test.ts', [SAMPLE_COMPOSE_APP, PORTMAN_COLLECTION])

describe.skipIf(!suites)('set-ups and the portman patch', () => {
  test('the conformance app is a valid ApplicationDescription with a compose and a helm profile', () => {
    const parsed = parseApplicationDescription(conformanceAppDescription(suites!.text(SAMPLE_COMPOSE_APP)))
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors))
    expect(parsed.value.metadata.id).toBe('margo-conformance-sample-app-a')
    expect(parsed.value.deploymentProfiles.map(p => p.type)).toEqual(['compose', 'helm.v3'])
    expect(parsed.value.metadata.description).toContain('web (nginx:alpine)')
    // The suites report on `app-component-1`; a report must name the deployment's components.
    expect(parsed.value.deploymentProfiles.map(p => p.components.map(c => c.name))).toEqual([['app-component-1'], ['app-component-1']])
  })

  test('the patched collection runs the manifest before the bundle, with {{variables}} and one test per request', () => {
    const patched = patchCollection(suites!.json(PORTMAN_COLLECTION))
    const urls = patched.item.map(i => `${i.request.method} ${i.request.url.raw}`)
    expect(urls).toEqual([
      'GET {{baseUrl}}/api/v1/onboarding/certificate',
      'POST {{baseUrl}}/api/v1/onboarding',
      'POST {{baseUrl}}/api/v1/clients/{{clientId}}/capabilities',
      'PUT {{baseUrl}}/api/v1/clients/{{clientId}}/capabilities',
      'GET {{baseUrl}}/api/v1/clients/{{clientId}}/deployments',
      'GET {{baseUrl}}/api/v1/clients/{{clientId}}/bundles/{{digest}}',
      'GET {{baseUrl}}/api/v1/clients/{{clientId}}/deployments/{{deploymentId}}/{{digest}}',
      'POST {{baseUrl}}/api/v1/clients/{{clientId}}/deployments/{{deploymentId}}/status',
    ])
    expect(patched.item.every(i => i.request.url.variable === undefined)).toBe(true)
    expect(patched.item[1]!.request.body?.raw).toBe('{{onboardingRequest}}')
    const tests = patched.item.map(i => (i.event ?? []).filter(e => e.listen === 'test').flatMap(e => e.script.exec).join('\n'))
    expect(tests[0]!.match(/pm\.test\(/g)).toHaveLength(4)
    for (const t of tests.slice(1)) expect(t.match(/pm\.test\(/g)).toHaveLength(1)
    expect(tests[4]).toContain('postman.setNextRequest(null)')
  })

  test('the signing proxy does not repeat the target\'s path prefix', () => {
    expect(upstreamUrl('https://w:3001/v1alpha2/margo', '/v1alpha2/margo/api/v1/onboarding', '?a=1')).toBe('https://w:3001/v1alpha2/margo/api/v1/onboarding?a=1')
    expect(upstreamUrl('https://w:3001/v1alpha2/margo', '/api/v1/onboarding', '')).toBe('https://w:3001/v1alpha2/margo/api/v1/onboarding')
  })

  test('the base URL is normalised and checked', () => {
    expect(normaliseBaseUrl('https://w:8443/v1alpha2/margo/')).toBe('https://w:8443/v1alpha2/margo')
    expect(normaliseBaseUrl('https://w:8443/v1alpha2/margo/api/v1')).toBe('https://w:8443/v1alpha2/margo')
    expect(() => normaliseBaseUrl('ftp://w')).toThrow('must use https:// or http://')
    expect(() => normaliseBaseUrl('not a url')).toThrow('invalid base URL')
  })
})
