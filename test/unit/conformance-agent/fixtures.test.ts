import {describe, expect, test} from 'bun:test'
import {gunzipSync} from 'node:zlib'
import {sha256Digest} from '../../../src/margo/digest.ts'
import {parseStateManifest} from '../../../src/margo/manifest.ts'
import {deploymentYaml, renderStep} from '../../../src/conformance/agent/manifests.ts'
import {endpointRules, evaluateRules, type AssertionSet} from '../../../src/conformance/agent/rules.ts'
import {agentTimeline, diffPlans, hasSubsequence, previousAccepted, type PlannedDeployment, type StepPlan} from '../../../src/conformance/agent/timeline.ts'
import {SUITE_PATHS} from '../../../src/conformance/agent/mock-wfm.ts'
import {conformanceSuites} from '../../shared.ts'

const plans = agentTimeline()
const plan = (id: string) => plans.find(p => p.id === id) as StepPlan
const yamlOf = (p: PlannedDeployment) => deploymentYaml('metadata:\n  annotations:\n    id: {{deploymentId}}\nlocation: {{packageLocation}}\n', p.deploymentId, `https://127.0.0.1:1/${p.app}?r=${p.revision}`)
const render = (id: string) => renderStep(plan(id), 'client-1', yamlOf)
const body = (id: string) => JSON.parse(new TextDecoder().decode(render(id).bytes))

describe('negative fixtures', () => {
  test('a good step is our own server manifest: parseable, digests of the served bytes, ETag of the body', () => {
    const r = render('assign-b')
    const parsed = parseStateManifest(new TextDecoder().decode(r.bytes))
    expect(parsed.ok).toBe(true)
    expect(r.served.etag).toBe(`"${sha256Digest(r.bytes)}"`)
    for (const [url, artifact] of r.artifacts) expect(url).toContain(sha256Digest(artifact.bytes))
  })

  test('unsupported_digest_algorithm: every digest is sha512: and our parser refuses it as such', () => {
    const m = body('unsupported-digest')
    expect([m.bundle.digest, ...m.deployments.map((d: {digest: string}) => d.digest)].every((d: string) => d.startsWith('sha512:'))).toBe(true)
    const parsed = parseStateManifest(new TextDecoder().decode(render('unsupported-digest').bytes))
    expect(parsed.ok).toBe(false)
  })

  test('bundle_digest_mismatch: the bundle served under the URL does not hash to the announced digest; the YAMLs do', () => {
    const r = render('bundle-mismatch')
    const bundle = r.artifacts.get(r.served.bundleUrl!)!
    expect(sha256Digest(bundle.bytes)).not.toBe(body('bundle-mismatch').bundle.digest)
    expect(gunzipSync(bundle.bytes).length).toBeGreaterThan(0)
    for (const d of r.served.deployments) expect(sha256Digest(r.artifacts.get(d.url)!.bytes)).toBe(d.digest)
  })

  test('deployment_digest_mismatch: only the tampered deployment names other bytes', () => {
    const r = render('deployment-mismatch')
    const wrong = r.served.deployments.filter(d => sha256Digest(r.artifacts.get(d.url)!.bytes) !== d.digest).map(d => d.label)
    expect(wrong).toEqual(['C'])
  })

  test('wrong_size_bytes: every sizeBytes is 1, digests are right', () => {
    const m = body('wrong-size')
    expect([m.bundle.sizeBytes, ...m.deployments.map((d: {sizeBytes: number}) => d.sizeBytes)]).toEqual([1, 1, 1, 1])
    expect(parseStateManifest(JSON.stringify(m)).ok).toBe(true)
  })

  test('every bad manifest would change something observable if adopted, and recovery manifests go up in version', () => {
    plans.forEach((p, i) => {
      const diff = diffPlans(previousAccepted(plans, i)?.deployments ?? [], p.deployments)
      if (p.kind !== 'setup') expect(diff.added.length + diff.updated.length + diff.removed.length).toBeGreaterThan(0)
      const prev = previousAccepted(plans, i)
      if (p.expect === 'accept' && prev) expect(p.manifestVersion).toBeGreaterThan(prev.manifestVersion)
    })
    expect(plan('rollback').manifestVersion).toBeLessThan(plan('wrong-size').manifestVersion)
  })

  test('states are matched as a subsequence', () => {
    expect(hasSubsequence(['pending', 'installing', 'installing', 'installed'], ['pending', 'installing', 'installed'])).toBe(true)
    expect(hasSubsequence(['installing', 'pending', 'installed'], ['pending', 'installing', 'installed'])).toBe(false)
  })
})

const suites = conformanceSuites('test/unit/conformance-agent/fixtures.test.ts', [SUITE_PATHS.assertions])

describe.skipIf(!suites)('conformance rule set', () => {
  const set = suites?.json<AssertionSet>(SUITE_PATHS.assertions) ?? {endpoints: {}}
  const capabilities = {
    apiVersion: 'device.margo.org/v1alpha1', kind: 'DeviceCapabilitiesManifest',
    properties: {id: 'd', vendor: 'v', modelNumber: 'm', serialNumber: 's', roles: ['Standalone Device'],
      resources: {cpu: {cores: 2, architecture: 'amd64'}, memory: '1Gi', storage: '1Gi', interfaces: [{type: 'ethernet'}], peripherals: []}},
  }

  test('a 1.0.0 capabilities document passes; each broken field names its rule', () => {
    const rules = endpointRules(set, 'POST_capabilities')
    expect(evaluateRules(rules, capabilities)).toEqual([])
    const broken = structuredClone(capabilities)
    broken.properties.resources.cpu.architecture = 'sparc'
    broken.properties.resources.interfaces = [{type: 'serial'}]
    broken.properties.roles = ['Unknown Role']
    expect(evaluateRules(rules, broken).map(f => f.rule_id)).toEqual(['capabilities-008', 'capabilities-012', 'capabilities-016'])
    expect(evaluateRules(rules, {apiVersion: 'device.margo.org/v1alpha1', kind: 'DeviceCapabilitiesManifest'}).map(f => f.rule_id)).toEqual(['capabilities-003'])
  })

  test('status rules check every component', () => {
    const rules = endpointRules(set, 'POST_status')
    const ok = {apiVersion: 'deployment.margo.org/v1alpha1', kind: 'DeploymentStatusManifest', deploymentId: 'x', status: {state: 'installed'}, components: [{name: 'a', state: 'installed'}]}
    expect(evaluateRules(rules, ok)).toEqual([])
    expect(evaluateRules(rules, {...ok, components: [{name: 'a', state: 'installed'}, {state: 'done'}]}).map(f => f.rule_id)).toEqual(['status-007', 'status-008'])
  })
})
