import {describe, expect, test} from 'bun:test'
import {parse} from 'yaml'
import {parseApplicationDescription} from '../../../src/margo/package/description.ts'
import {resolveParameterValues} from '../../../src/margo/package/parameters.ts'
import type {ApplicationDescription, DeploymentProfile, ParamValue} from '../../../src/margo/package/types.ts'
import {buildApplicationDeployment, type BuildInput} from '../../../src/server/deployments/build.ts'
import {isDeploymentId, newDeploymentId} from '../../../src/server/deployments/ids.ts'
import {defaultDeploymentName, defaultNamespace, isDnsLabel} from '../../../src/server/deployments/names.ts'
import {MINIMAL_G1, MULTI_PROFILE} from '../catalog/fixtures.ts'

/** Spec §3.1 helm example, verbatim. */
const SPEC_HELM_DEPLOYMENT = `apiVersion: application.margo.org/v1alpha1
kind: ApplicationDeployment
metadata:
  annotations:
    id: a3e2f5dc-912e-494f-8395-52cf3769bc06
    applicationId: com-northstartida-digitron-orchestrator
  name: com-northstartida-digitron-orchestrator-deployment
  namespace: margo-poc
spec:
  deploymentProfile:
    type: helm.v3
    components:
      - name: database-services
        properties: {repository: "oci://quay.io/charts/realtime-database-services", revision: 2.3.7, timeout: 8m30s, wait: true}
      - name: digitron-orchestrator
        properties: {repository: "oci://northstarida.azurecr.io/charts/northstarida-digitron-orchestrator", revision: 1.0.9, wait: true}
  parameters:
    pollFrequency:
      value: 120
      targets:
        - pointer: settings.pollFrequency
          components: [digitron-orchestrator, database-services]
`

/** Spec §3.1 compose example, verbatim. */
const SPEC_COMPOSE_DEPLOYMENT = `apiVersion: application.margo.org/v1alpha1
kind: ApplicationDeployment
metadata:
  annotations:
    id: ad9b614e-8912-45f4-a523-372358765def
    applicationId: com-northstartida-digitron-orchestrator
  name: com-northstartida-digitron-orchestrator-deployment
  namespace: margo-poc
spec:
  deploymentProfile:
    type: compose
    components:
      - name: digitron-orchestrator-docker
        properties:
          packageLocation: https://northsitarida.com/digitron/docker/digitron-orchestrator.tar.gz
          keyLocation: https://northsitarida.com/digitron/docker/public-key.asc
  parameters:
    siteId:
      value: SID-123-ABC
      targets:
        - pointer: SITE_ID
          components: [digitron-orchestrator-docker]
`

/** The description the two spec examples could have been built from. */
const SPEC_APP = `apiVersion: margo.org/v1-alpha1
kind: ApplicationDescription
metadata:
  id: com-northstartida-digitron-orchestrator
  name: Digitron orchestrator
  version: 1.2.1
  catalog:
    organization: [{name: Northstar Industrial Applications}]
deploymentProfiles:
  - type: helm.v3
    id: helm-a
    description: not copied
    requiredResources: {cpu: {cores: 1}}
    components:
      - name: database-services
        properties: {repository: "oci://quay.io/charts/realtime-database-services", revision: 2.3.7, timeout: 8m30s, wait: true}
      - name: digitron-orchestrator
        properties: {repository: "oci://northstarida.azurecr.io/charts/northstarida-digitron-orchestrator", revision: 1.0.9, wait: true}
  - type: compose
    id: compose-a
    components:
      - name: digitron-orchestrator-docker
        properties:
          packageLocation: https://northsitarida.com/digitron/docker/digitron-orchestrator.tar.gz
          keyLocation: https://northsitarida.com/digitron/docker/public-key.asc
parameters:
  pollFrequency:
    value: 120
    targets:
      - pointer: settings.pollFrequency
        components: [digitron-orchestrator, database-services]
  siteId:
    targets:
      - pointer: ENV.SITE_ID
        components: [digitron-orchestrator-docker]
configuration:
  sections:
    - name: General
      settings:
        - {parameter: pollFrequency, name: Poll frequency, schema: seconds}
        - {parameter: siteId, name: Site, schema: site, immutable: true}
  schema:
    - {name: seconds, dataType: integer, minValue: 1}
    - {name: site, dataType: string, allowEmpty: false}
`

function load(source: string | unknown): ApplicationDescription {
  const r = parseApplicationDescription(source)
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.value
}

function resolve(description: ApplicationDescription, user: Record<string, unknown>): Record<string, ParamValue> {
  const r = resolveParameterValues(description, user)
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.values
}

function profile(description: ApplicationDescription, type: DeploymentProfile['type']): DeploymentProfile {
  const p = description.deploymentProfiles.find(x => x.type === type)
  if (!p) throw new Error(`no ${type} profile`)
  return p
}

const specApp = load(SPEC_APP)
const multi = load(MULTI_PROFILE)
const ID = 'a3e2f5dc-912e-494f-8395-52cf3769bc06'

/** Reads YAML the way Go yaml.v2 (helm) would: YAML 1.1 rules. */
const read11 = (yaml: string): unknown => parse(yaml, {version: '1.1'})

describe('spec §3.1 examples are reproduced', () => {
  test('helm: pollFrequency reaches both chart components, profile extras are dropped', () => {
    const built = buildApplicationDeployment({
      description: specApp, profile: profile(specApp, 'helm.v3'), deploymentId: ID,
      values: {pollFrequency: 120}, name: 'com-northstartida-digitron-orchestrator-deployment', namespace: 'margo-poc',
    })
    expect(read11(built.yaml)).toEqual(parse(SPEC_HELM_DEPLOYMENT, {version: '1.1'}))
    expect(built.document).toEqual(parse(SPEC_HELM_DEPLOYMENT))
  })

  test('compose: the ENV. prefix is stripped and helm-only parameters are left out', () => {
    const description = specApp
    const built = buildApplicationDeployment({
      description, profile: profile(description, 'compose'), deploymentId: 'ad9b614e-8912-45f4-a523-372358765def',
      values: resolve(description, {siteId: 'SID-123-ABC'}), name: 'com-northstartida-digitron-orchestrator-deployment', namespace: 'margo-poc',
    })
    expect(read11(built.yaml)).toEqual(parse(SPEC_COMPOSE_DEPLOYMENT, {version: '1.1'}))
  })
})

describe('WFM-47: id, applicationId, name and namespace', () => {
  test('the deployment id and application id are set; name and namespace default to DNS labels', () => {
    const built = buildApplicationDeployment({description: specApp, profile: profile(specApp, 'helm.v3'), deploymentId: ID, values: {}})
    expect(built.document.metadata).toEqual({
      annotations: {id: ID, applicationId: 'com-northstartida-digitron-orchestrator'},
      name: 'com-northstartida-digitron-orchestrator-a3e2f5dc',
      namespace: 'com-northstartida-digitron-orchestrator',
    })
    expect(built.document.apiVersion).toBe('application.margo.org/v1alpha1')
    expect(built.document.kind).toBe('ApplicationDeployment')
  })

  test('a 200-character application id still gives distinct DNS labels of at most 63 characters', () => {
    const a = `${'a'.repeat(120)}-one`
    const b = `${'a'.repeat(120)}-two`
    for (const id of [a, b]) {
      expect(isDnsLabel(defaultNamespace(id))).toBe(true)
      expect(isDnsLabel(defaultDeploymentName(id, ID))).toBe(true)
      expect(defaultDeploymentName(id, ID).endsWith('-a3e2f5dc')).toBe(true)
    }
    expect(defaultNamespace(a)).not.toBe(defaultNamespace(b))
    expect(defaultNamespace('-x-')).toBe('x')
    expect(defaultNamespace('a'.repeat(200))).toHaveLength(63)
  })

  test('newDeploymentId gives distinct version 4 UUIDs', () => {
    const ids = new Set(Array.from({length: 100}, newDeploymentId))
    expect(ids.size).toBe(100)
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(isDeploymentId('not-a-uuid')).toBe(false)
  })

  test('a deployment id that is not a UUID is refused (invalid example)', () => {
    expect(() => buildApplicationDeployment({description: specApp, profile: profile(specApp, 'helm.v3'), deploymentId: 'deployment-1', values: {}})).toThrow(/UUID/)
  })

  test('a name or namespace that is not a DNS label is refused', () => {
    const base = {description: specApp, profile: profile(specApp, 'helm.v3'), deploymentId: ID, values: {}}
    expect(() => buildApplicationDeployment({...base, name: 'Has_Upper'})).toThrow(/name/)
    expect(() => buildApplicationDeployment({...base, namespace: 'x'.repeat(64)})).toThrow(/namespace/)
  })

  test('a profile from another description is refused', () => {
    expect(() => buildApplicationDeployment({description: specApp, profile: profile(multi, 'compose'), deploymentId: ID, values: {}})).toThrow(/not a profile/)
  })
})

describe('WFM-48: components are copied verbatim and in order', () => {
  test('reversing the description reverses the deployment', () => {
    const reversed = load({...parse(SPEC_APP), deploymentProfiles: parse(SPEC_APP).deploymentProfiles.map((p: {components: unknown[]}) => ({...p, components: [...p.components].reverse()}))})
    const built = buildApplicationDeployment({description: reversed, profile: profile(reversed, 'helm.v3'), deploymentId: ID, values: {}})
    expect(built.document.spec.deploymentProfile.components.map(c => c.name)).toEqual(['digitron-orchestrator', 'database-services'])
  })

  test('profile id, description and requiredResources are not copied', () => {
    const built = buildApplicationDeployment({description: specApp, profile: profile(specApp, 'helm.v3'), deploymentId: ID, values: {}})
    expect(Object.keys(built.document.spec.deploymentProfile)).toEqual(['type', 'components'])
    expect(built.yaml).not.toContain('helm-a')
    expect(built.yaml).not.toContain('requiredResources')
    expect(built.document.spec.parameters).toEqual({})
    expect(built.yaml).toContain('parameters: {}')
  })
})

describe('WFM-42: device-targeted extensions travel, WFM ones do not', () => {
  const built = buildApplicationDeployment({
    description: multi, profile: profile(multi, 'helm.v3'), deploymentId: ID, values: resolve(multi, {siteId: 'SID-123-ABC'}),
  })

  test('profile and component extensions are copied verbatim', () => {
    const p = built.document.spec.deploymentProfile
    expect(p['x-devco-extensions']).toEqual({gpuSharing: true})
    expect(p.components[0]!['x-devco-extensions']).toEqual({priority: 'high'})
    expect(p.components[1]).not.toHaveProperty('x-devco-extensions')
  })

  test('root (WFM-targeted) extensions and catalog metadata are not sent', () => {
    expect(built.yaml).not.toContain('x-acme-extensions')
    expect(built.yaml).not.toContain('billingPlan')
    expect(built.yaml).not.toContain('organization')
  })

  test('copies are independent of the description', () => {
    built.document.spec.deploymentProfile.components[0]!.properties.wait = false
    expect(multi.deploymentProfiles[0]!.components[0]!.properties.wait).toBe(true)
  })
})

describe('spec §3.4 step 3: parameters keep only targets in the chosen profile', () => {
  const values = resolve(multi, {siteId: 'SID-123-ABC'})

  test('helm profile: compose-only parameters are omitted and compose targets dropped', () => {
    const {spec} = buildApplicationDeployment({description: multi, profile: profile(multi, 'helm.v3'), deploymentId: ID, values}).document
    expect(Object.keys(spec.parameters)).toEqual(['idpName', 'pollFrequency', 'dbOnly', 'threshold', 'debug'])
    expect(spec.parameters.idpName!.targets).toEqual([{pointer: 'idp.name', components: ['digitron-orchestrator']}])
    expect(spec.parameters.threshold!.targets).toEqual([{pointer: 'settings.threshold', components: ['digitron-orchestrator']}])
  })

  test('A25: compose profile gets bare environment variable names', () => {
    const {spec} = buildApplicationDeployment({description: multi, profile: profile(multi, 'compose'), deploymentId: ID, values}).document
    expect(Object.keys(spec.parameters)).toEqual(['idpName', 'pollFrequency', 'siteId', 'threshold', 'logLevels'])
    expect(spec.parameters.idpName!.targets).toEqual([{pointer: 'IDP_NAME', components: ['digitron-orchestrator-docker']}])
  })

  test('helm pointers are never rewritten', () => {
    const d = load(MINIMAL_G1.replace('pointer: global.config.appGreeting', 'pointer: ENV.greeting'))
    const {spec} = buildApplicationDeployment({description: d, profile: d.deploymentProfiles[0]!, deploymentId: ID, values: {greeting: 'Hi'}}).document
    expect(spec.parameters.greeting!.targets[0]!.pointer).toBe('ENV.greeting')
  })

  test('a value for a parameter the description does not have is refused', () => {
    expect(() => buildApplicationDeployment({description: multi, profile: profile(multi, 'compose'), deploymentId: ID, values: {ghost: 1}})).toThrow(/unknown parameter/)
  })
})

describe('A24 and YAML 1.1 readers: values keep their types', () => {
  const input: BuildInput = {
    description: multi, profile: profile(multi, 'helm.v3'), deploymentId: ID,
    values: resolve(multi, {siteId: 'SID-123-ABC', idpName: 'yes', pollFrequency: '300', threshold: '2'}),
  }
  const built = buildApplicationDeployment(input)

  test('a YAML 1.1 reader sees exactly the document', () => {
    expect(read11(built.yaml)).toEqual(built.document)
    expect(parse(built.yaml)).toEqual(built.document)
  })

  test('strings YAML 1.1 would misread are quoted', () => {
    expect(built.yaml).toContain('value: "yes"')
    const tricky = ['yes', 'on', 'Off', 'y', 'n', '0755', '1.0', '123', '1_000', '12:30', '~', 'null', '']
    const d = load(MINIMAL_G1.replace('maxLength: 45, allowEmpty: false', 'allowEmpty: true'))
    for (const s of tricky) {
      const b = buildApplicationDeployment({description: d, profile: d.deploymentProfiles[0]!, deploymentId: ID, values: {greeting: s}})
      expect((read11(b.yaml) as {spec: {parameters: {greeting: {value: unknown}}}}).spec.parameters.greeting.value).toBe(s)
    }
  })

  test('integers stay integers, doubles keep a decimal point, booleans stay booleans', () => {
    expect(built.yaml).toContain('value: 300\n')
    expect(built.yaml).toContain('value: 2.0\n')
    expect(built.yaml).toContain('value: false\n')
    expect(built.yaml).toContain('wait: true\n')
    expect(built.yaml).toContain('revision: 2.3.7\n')
  })

  test('revision written as a number in the description is emitted as a quoted string', () => {
    const d = load(MINIMAL_G1.replace('revision: 1.0.1', 'revision: 1.0'))
    const b = buildApplicationDeployment({description: d, profile: d.deploymentProfiles[0]!, deploymentId: ID, values: {}})
    expect(b.yaml).toContain('revision: "1.0"')
    expect((read11(b.yaml) as {spec: {deploymentProfile: {components: {properties: {revision: unknown}}[]}}}).spec.deploymentProfile.components[0]!.properties.revision).toBe('1.0')
  })

  test('doubles with minPrecision keep that many digits', () => {
    const d = load({
      ...parse(MINIMAL_G1),
      parameters: {ratio: {value: 1.5, targets: [{pointer: 'ratio', components: ['hello-world']}]}},
      configuration: {sections: [{name: 'S', settings: [{parameter: 'ratio', name: 'Ratio', schema: 'r'}]}], schema: [{name: 'r', dataType: 'double', minPrecision: 2}]},
    })
    const b = buildApplicationDeployment({description: d, profile: d.deploymentProfiles[0]!, deploymentId: ID, values: resolve(d, {ratio: '1.50'})})
    expect(b.yaml).toContain('value: 1.50\n')
  })

  test('the same input gives the same bytes; bytes are the UTF-8 of the text', () => {
    const again = buildApplicationDeployment(structuredClone(input))
    expect(Buffer.from(again.bytes).equals(Buffer.from(built.bytes))).toBe(true)
    expect(new TextDecoder().decode(built.bytes)).toBe(built.yaml)
    expect(built.yaml).not.toContain('&')
    expect(built.yaml).not.toContain('%YAML')
  })

  test('long strings are never folded over lines', () => {
    const d = load(MINIMAL_G1.replace('maxLength: 45, ', ''))
    const long = 'word '.repeat(40).trim()
    const b = buildApplicationDeployment({description: d, profile: d.deploymentProfiles[0]!, deploymentId: ID, values: {greeting: long}})
    expect(b.yaml).toContain(`value: ${long}\n`)
  })
})
