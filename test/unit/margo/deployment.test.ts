import {describe, expect, test} from 'bun:test'
import {parseApplicationDeployment} from '../../../src/margo/deployment.ts'
import {COMPOSE_DEPLOYMENT, fillTemplate, HELM_DEPLOYMENT, SUPPLIER_TEMPLATE_APP_A, SUPPLIER_TEMPLATE_APP_B} from './fixtures.ts'

function acceptedValue(yaml: string) {
  const r = parseApplicationDeployment(yaml)
  if (!r.ok) throw new Error(`expected acceptance, got ${JSON.stringify(r.errors)}`)
  return r.value
}
const fieldsOf = (yaml: string) => {
  const r = parseApplicationDeployment(yaml)
  return r.ok ? [] : r.errors.map(e => e.field)
}

describe('ApplicationDeployment (G1)', () => {
  test('the spec Helm example is read in full', () => {
    const d = acceptedValue(HELM_DEPLOYMENT)
    expect(d.apiVersion).toBe('application.margo.org/v1alpha1')
    expect(d.metadata).toEqual({
      name: 'com-northstartida-digitron-orchestrator-deployment',
      namespace: 'margo-poc',
      annotations: {id: 'a3e2f5dc-912e-494f-8395-52cf3769bc06', applicationId: 'com-northstartida-digitron-orchestrator'},
    })
    expect(d.spec.deploymentProfile.type).toBe('helm.v3')
    expect(d.spec.deploymentProfile.components).toEqual([
      {name: 'database-services', properties: {repository: 'oci://quay.io/charts/realtime-database-services', revision: '2.3.7', wait: true, timeout: '8m30s', timeoutSeconds: 510}},
      {name: 'digitron-orchestrator', properties: {repository: 'oci://northstarida.azurecr.io/charts/northstarida-digitron-orchestrator', revision: '1.0.9', wait: true}},
    ])
    expect(d.spec.parameters).toEqual({
      pollFrequency: {value: 120, targets: [{pointer: 'settings.pollFrequency', components: ['digitron-orchestrator', 'database-services']}]},
    })
  })

  test('the spec Compose example is read in full', () => {
    const d = acceptedValue(COMPOSE_DEPLOYMENT)
    expect(d.spec.deploymentProfile).toEqual({
      type: 'compose',
      components: [{
        name: 'digitron-orchestrator-docker',
        properties: {
          packageLocation: 'https://northsitarida.com/digitron/docker/digitron-orchestrator.tar.gz',
          keyLocation: 'https://northsitarida.com/digitron/docker/public-key.asc',
          wait: true,
        },
      }],
    })
    expect(d.spec.parameters.siteId).toEqual({value: 'SID-123-ABC', targets: [{pointer: 'SITE_ID', components: ['digitron-orchestrator-docker']}]})
  })

  test('a revision keeps its written form: 1.10 is not the number 1.1', () => {
    const d = acceptedValue(HELM_DEPLOYMENT.replace('revision: 1.0.9', 'revision: 1.10'))
    expect(d.spec.deploymentProfile.components[1]!.properties.revision).toBe('1.10')
  })
})

describe('A33: the device-supplier mock templates are accepted', () => {
  for (const [name, template] of [['app-a', SUPPLIER_TEMPLATE_APP_A], ['app-b', SUPPLIER_TEMPLATE_APP_B]] as const) {
    test(name, () => {
      const id = 'b7f1c3a0-1a2b-4c3d-9e5f-6a7b8c9d0e1a'
      const d = acceptedValue(fillTemplate(template, id, `https://localhost:3001/v1alpha2/margo/sample-apps/${name}/compose.yaml`))
      expect(d.apiVersion).toBe('margo.org/v1alpha1')
      expect(d.metadata.annotations).toEqual({id})
      expect(d.metadata.name).toBe(id)
      expect(d.metadata.namespace).toBeUndefined()
      expect(d.spec.parameters).toEqual({})
      expect(d.spec.deploymentProfile.components).toEqual([
        {name: `sample-${name}`, properties: {packageLocation: `https://localhost:3001/v1alpha2/margo/sample-apps/${name}/compose.yaml`, wait: true}},
      ])
    })
  }
})

describe('A2 / A3 / A6 / A24 / A25: variants a client accepts', () => {
  test('A2: the id may be top-level; when both are given they must agree', () => {
    const topLevel = COMPOSE_DEPLOYMENT.replace('    id: ad9b614e-8912-45f4-a523-372358765def\n', '').replace('apiVersion:', 'id: ad9b614e-8912-45f4-a523-372358765def\napiVersion:')
    expect(acceptedValue(topLevel).metadata.annotations.id).toBe('ad9b614e-8912-45f4-a523-372358765def')
    const both = COMPOSE_DEPLOYMENT.replace('apiVersion:', 'id: ad9b614e-8912-45f4-a523-372358765def\napiVersion:')
    expect(acceptedValue(both).metadata.annotations.id).toBe('ad9b614e-8912-45f4-a523-372358765def')
    const conflicting = COMPOSE_DEPLOYMENT.replace('apiVersion:', 'id: a3e2f5dc-912e-494f-8395-52cf3769bc06\napiVersion:')
    expect(fieldsOf(conflicting)).toEqual(['id'])
    const none = COMPOSE_DEPLOYMENT.replace('    id: ad9b614e-8912-45f4-a523-372358765def\n', '')
    expect(fieldsOf(none)).toEqual(['metadata.annotations.id'])
  })

  test('A3: type helm means helm.v3; any other type is rejected (§3.2: helmchart)', () => {
    expect(acceptedValue(HELM_DEPLOYMENT.replace('type: helm.v3', 'type: helm')).spec.deploymentProfile.type).toBe('helm.v3')
    expect(fieldsOf(HELM_DEPLOYMENT.replace('type: helm.v3', 'type: helmchart'))).toEqual(['spec.deploymentProfile.type'])
  })

  test('A6: applicationId may come from spec.applicationId, or be missing', () => {
    const moved = COMPOSE_DEPLOYMENT.replace('    applicationId: com-northstartida-digitron-orchestrator\n', '').replace('spec:\n', 'spec:\n  applicationId: from-spec\n')
    expect(acceptedValue(moved).metadata.annotations.applicationId).toBe('from-spec')
    const missing = COMPOSE_DEPLOYMENT.replace('    applicationId: com-northstartida-digitron-orchestrator\n', '')
    expect(acceptedValue(missing).metadata.annotations.applicationId).toBeUndefined()
  })

  test('A24: wait "true"/"false" strings are coerced; other values are rejected; default is true', () => {
    const d = acceptedValue(HELM_DEPLOYMENT.replace('timeout: 8m30s, wait: true', 'timeout: 8m30s, wait: "false"').replace('revision: 1.0.9, wait: true', 'revision: 1.0.9, wait: "TRUE"'))
    expect(d.spec.deploymentProfile.components.map(c => c.properties.wait)).toEqual([false, true])
    expect(acceptedValue(COMPOSE_DEPLOYMENT).spec.deploymentProfile.components[0]!.properties.wait).toBe(true)
    expect(fieldsOf(HELM_DEPLOYMENT.replace('revision: 1.0.9, wait: true', 'revision: 1.0.9, wait: sometimes'))).toEqual(['spec.deploymentProfile.components[1].properties.wait'])
  })

  test('A24: parameter values written as strings stay strings', () => {
    const d = acceptedValue(HELM_DEPLOYMENT.replace('value: 120', 'value: "120"'))
    expect(d.spec.parameters.pollFrequency!.value).toBe('120')
  })

  test('A25: a Compose pointer loses its legacy ENV. prefix; a Helm pointer is untouched', () => {
    expect(acceptedValue(COMPOSE_DEPLOYMENT.replace('pointer: SITE_ID', 'pointer: ENV.SITE_ID')).spec.parameters.siteId!.targets[0]!.pointer).toBe('SITE_ID')
    expect(acceptedValue(HELM_DEPLOYMENT.replace('pointer: settings.pollFrequency', 'pointer: ENV.x')).spec.parameters.pollFrequency!.targets[0]!.pointer).toBe('ENV.x')
  })
})

describe('CL-33: unknown extensions and members are ignored', () => {
  test('x-*-extensions on spec, profile and component, plus later members, do not fail', () => {
    const doc = HELM_DEPLOYMENT
      .replace('spec:\n', 'spec:\n  x-acme-extensions: {a: 1}\n  deviceConstraints: {cpu: 2}\n')
      .replace('    type: helm.v3\n', '    type: helm.v3\n    x-acme-extensions: [1, 2]\n')
      .replace('metadata:\n', 'x-acme-extensions: {top: true}\nmetadata:\n  deviceId: "*"\n')
    expect(parseApplicationDeployment(doc).ok).toBe(true)
  })
})

describe('rejections', () => {
  test('§3.2: a wrong kind and a non-UUID deployment id are rejected', () => {
    expect(fieldsOf(HELM_DEPLOYMENT.replace('kind: ApplicationDeployment', 'kind: ApplicationDescription'))).toEqual(['kind'])
    expect(fieldsOf(HELM_DEPLOYMENT.replace('id: a3e2f5dc-912e-494f-8395-52cf3769bc06', 'id: my-deployment'))).toEqual(['metadata.annotations.id'])
  })

  test('component names are lowercase letters, digits and dashes, unique, and at least one component is needed', () => {
    expect(fieldsOf(HELM_DEPLOYMENT.replace('- name: database-services', '- name: Database_Services'))).toContain('spec.deploymentProfile.components[0].name')
    expect(fieldsOf(HELM_DEPLOYMENT.replace('- name: digitron-orchestrator', '- name: database-services'))).toContain('spec.deploymentProfile.components[1].name')
    const empty = 'apiVersion: a/b\nkind: ApplicationDeployment\nmetadata: {name: n, annotations: {id: a3e2f5dc-912e-494f-8395-52cf3769bc06}}\nspec: {deploymentProfile: {type: compose, components: []}}\n'
    expect(fieldsOf(empty)).toEqual(['spec.deploymentProfile.components'])
  })

  test('Helm components need repository and revision; Compose ones a packageLocation or repository', () => {
    expect(fieldsOf(HELM_DEPLOYMENT.replace('{repository: "oci://quay.io/charts/realtime-database-services", revision: 2.3.7, ', '{'))).toEqual([
      'spec.deploymentProfile.components[0].properties.repository', 'spec.deploymentProfile.components[0].properties.revision',
    ])
    expect(fieldsOf(COMPOSE_DEPLOYMENT.replace(/ {10}packageLocation: .*\n/, ''))).toEqual(['spec.deploymentProfile.components[0].properties.packageLocation'])
    const oci = COMPOSE_DEPLOYMENT.replace(/packageLocation: .*\n/, 'repository: oci://registry.example/app\n          revision: 1.2.0\n')
    expect(acceptedValue(oci).spec.deploymentProfile.components[0]!.properties).toMatchObject({repository: 'oci://registry.example/app', revision: '1.2.0'})
  })

  test('timeouts must be durations', () => {
    expect(fieldsOf(HELM_DEPLOYMENT.replace('timeout: 8m30s', 'timeout: soon'))).toEqual(['spec.deploymentProfile.components[0].properties.timeout'])
    expect(acceptedValue(HELM_DEPLOYMENT.replace('timeout: 8m30s', 'timeout: 1h')).spec.deploymentProfile.components[0]!.properties.timeoutSeconds).toBe(3600)
  })

  test('parameter targets must name components of this deployment', () => {
    expect(fieldsOf(HELM_DEPLOYMENT.replace('components: [digitron-orchestrator, database-services]', 'components: [digitron-orchestrator, ghost]'))).toEqual([
      'spec.parameters.pollFrequency.targets[0].components[1]',
    ])
  })

  test('invalid YAML, duplicate keys, several documents and non-mappings are rejected', () => {
    expect(fieldsOf('a: [')).toEqual([''])
    expect(fieldsOf(`${HELM_DEPLOYMENT}kind: ApplicationDeployment\n`)).toEqual([''])
    expect(fieldsOf(`${HELM_DEPLOYMENT}---\n${COMPOSE_DEPLOYMENT}`)).toEqual([''])
    expect(fieldsOf('- 1\n- 2\n')).toEqual([''])
    expect(fieldsOf('')).toEqual([''])
  })

  test('every problem is reported at once', () => {
    const bad = 'apiVersion: ""\nkind: Nope\nmetadata: {annotations: {id: 1}}\nspec: {deploymentProfile: {type: swarm, components: [{name: UP}]}}\n'
    expect(fieldsOf(bad)).toEqual([
      'apiVersion', 'kind', 'metadata.annotations.id', 'metadata.name', 'spec.deploymentProfile.type',
      'spec.deploymentProfile.components[0].name', 'spec.deploymentProfile.components[0].properties',
    ])
  })
})
