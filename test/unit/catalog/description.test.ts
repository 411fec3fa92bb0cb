import {describe, expect, test} from 'bun:test'
import {parse} from 'yaml'
import {parseApplicationDescription, type DescriptionResult} from '../../../src/margo/package/description.ts'
import type {FieldError} from '../../../src/margo/result.ts'
import {MINIMAL_G1, MULTI_PROFILE} from './fixtures.ts'

type Doc = Record<string, any>

/** The minimal description as a plain object, changed by `edit`. */
function g1(edit: (d: Doc) => void = () => {}): Doc {
  const d = parse(MINIMAL_G1) as Doc
  edit(d)
  return d
}

function errorsOf(r: DescriptionResult): FieldError[] {
  if (r.ok) throw new Error(`expected errors, got a valid description (warnings: ${JSON.stringify(r.warnings)})`)
  return r.errors
}

function fields(list: FieldError[]): string[] {
  return list.map(e => e.field)
}

describe('spec §3.2 minimal G1 description', () => {
  test('parses with no errors or warnings and keeps the source', () => {
    const r = parseApplicationDescription(MINIMAL_G1)
    if (!r.ok) throw new Error(JSON.stringify(r.errors))
    expect(r.warnings).toEqual([])
    expect(r.source).toBe(MINIMAL_G1)
    expect(r.raw).toEqual(parse(MINIMAL_G1))
    expect(r.value.metadata).toEqual({
      id: 'com-northstartida-hello-world',
      name: 'Hello World',
      version: '1.0',
      catalog: {organization: [{name: 'Northstar Industrial Applications', site: 'http://northstar-ida.com'}]},
    })
    const profile = r.value.deploymentProfiles[0]!
    expect(profile.type).toBe('helm.v3')
    expect(profile.components[0]!.properties).toEqual({
      repository: 'oci://northstarida.azurecr.io/charts/hello-world', revision: '1.0.1', wait: true,
    })
    expect(r.value.parameters.greeting).toEqual({
      value: 'Hello', targets: [{pointer: 'global.config.appGreeting', components: ['hello-world']}],
    })
    expect(r.value.configuration?.schema[0]).toEqual({name: 'requireText', dataType: 'string', maxLength: 45, allowEmpty: false})
  })

  test('accepts an already parsed document (source is then null)', () => {
    const r = parseApplicationDescription(g1())
    expect(r.ok && r.source).toBe(null)
  })

  test('the two-profile description is valid', () => {
    const r = parseApplicationDescription(MULTI_PROFILE)
    if (!r.ok) throw new Error(JSON.stringify(r.errors))
    expect(r.value.deploymentProfiles.map(p => p.type)).toEqual(['helm.v3', 'compose'])
    expect(r.value.deploymentProfiles[0]!.requiredResources?.cpu?.architectures).toEqual(['amd64'])
  })
})

describe('invalid examples from data-model/resources/examples/invalid', () => {
  test('wrong kind is rejected at kind', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => { d.kind = 'ApplicationDeployment' })))
    expect(fields(e)).toEqual(['kind'])
  })

  test.each(['Com-Northstar-Hello', 'com.northstar.hello', 'com_northstar_hello'])('application id %p is rejected at metadata.id', id => {
    const e = errorsOf(parseApplicationDescription(g1(d => { d.metadata.id = id })))
    expect(fields(e)).toEqual(['metadata.id'])
    expect(e[0]!.code).toBe('pattern')
  })

  test('an application id of 201 characters is rejected, 200 is accepted', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => { d.metadata.id = 'a'.repeat(201) })))
    expect(fields(e)).toEqual(['metadata.id'])
    expect(parseApplicationDescription(g1(d => { d.metadata.id = 'a'.repeat(200) })).ok).toBe(true)
  })

  test('profile type helmchart is rejected at deploymentProfiles[0].type', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => { d.deploymentProfiles[0].type = 'helmchart' })))
    expect(fields(e)).toEqual(['deploymentProfiles[0].type'])
  })
})

describe('A3: helm and helm.v3', () => {
  test('type helm is accepted and normalised to helm.v3 with a warning', () => {
    const r = parseApplicationDescription(g1(d => { d.deploymentProfiles[0].type = 'helm' }))
    if (!r.ok) throw new Error(JSON.stringify(r.errors))
    expect(r.value.deploymentProfiles[0]!.type).toBe('helm.v3')
    expect(fields(r.warnings)).toEqual(['deploymentProfiles[0].type'])
  })
})

describe('lint-grade reporting', () => {
  test('every problem is reported with its path', () => {
    const r = parseApplicationDescription(g1(d => {
      d.apiVersion = ''
      delete d.metadata.name
      d.metadata.catalog.organization = []
      d.deploymentProfiles.push({type: 'compose', id: 'b', components: [{name: 'Bad_Name', properties: {packageLocation: 'ftp://x'}}]})
      d.parameters.greeting.targets[0].components.push('nowhere')
      d.configuration.schema[0].maxLength = -1
    }))
    expect(fields(errorsOf(r)).sort()).toEqual([
      'apiVersion',
      'configuration.schema[0].maxLength',
      'deploymentProfiles[1].components[0].name',
      'deploymentProfiles[1].components[0].properties.packageLocation',
      'metadata.catalog.organization',
      'metadata.name',
      'parameters.greeting.targets[0].components[1]',
    ])
  })

  test('YAML syntax errors and duplicate keys are errors with a location', () => {
    const bad = errorsOf(parseApplicationDescription('kind: [unclosed\n'))
    expect(bad[0]!.code).toBe('yaml')
    const dup = errorsOf(parseApplicationDescription('kind: A\nkind: B\n'))
    expect(dup[0]!.field).toContain('line 2')
  })

  test('a document that is not a map is rejected', () => {
    expect(fields(errorsOf(parseApplicationDescription('- a\n- b\n')))).toEqual([''])
  })

  test('missing deploymentProfiles and an empty list are both errors', () => {
    expect(fields(errorsOf(parseApplicationDescription(g1(d => { delete d.deploymentProfiles }))))).toContain('deploymentProfiles')
    expect(fields(errorsOf(parseApplicationDescription(g1(d => { d.deploymentProfiles = [] }))))).toContain('deploymentProfiles')
  })
})

describe('metadata', () => {
  test('an unquoted numeric version is kept as written, with a warning', () => {
    const r = parseApplicationDescription(MINIMAL_G1.replace('version: "1.0"', 'version: 1.0'))
    if (!r.ok) throw new Error(JSON.stringify(r.errors))
    expect(r.value.metadata.version).toBe('1.0')
    expect(r.warnings).toEqual([expect.objectContaining({field: 'metadata.version', code: 'number-as-string'})])
  })

  test('a numeric helm revision keeps its written digits (1.10, not 1.1)', () => {
    const r = parseApplicationDescription(MINIMAL_G1.replace('revision: 1.0.1', 'revision: 1.10'))
    if (!r.ok) throw new Error(JSON.stringify(r.errors))
    expect(r.value.deploymentProfiles[0]!.components[0]!.properties.wait).toBe(true)
    expect((r.value.deploymentProfiles[0]!.components[0]!.properties as {revision: string}).revision).toBe('1.10')
  })

  test('organization needs a name; author e-mail must look like one', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => {
      d.metadata.catalog.organization = [{site: 'https://x'}]
      d.metadata.catalog.author = [{name: 'A', email: 'not-an-email'}]
    })))
    expect(fields(e).sort()).toEqual(['metadata.catalog.author[0].email', 'metadata.catalog.organization[0].name'])
  })

  test('missing catalog and missing version are errors', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => { delete d.metadata.catalog; delete d.metadata.version })))
    expect(fields(e).sort()).toEqual(['metadata.catalog', 'metadata.version'])
  })

  test('catalog resource paths must stay inside the package', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => {
      d.metadata.catalog.application = {icon: '../icon.png', licenseFile: '/etc/passwd', descriptionFile: './resources/d.md'}
    })))
    expect(fields(e).sort()).toEqual(['metadata.catalog.application.icon', 'metadata.catalog.application.licenseFile'])
  })
})

describe('WFM-41: specification extensions', () => {
  test('unknown x-*-extensions are tolerated at every level and kept', () => {
    const r = parseApplicationDescription(MULTI_PROFILE)
    if (!r.ok) throw new Error(JSON.stringify(r.errors))
    expect(r.warnings).toEqual([])
    expect(r.value.extensions).toEqual({'x-acme-extensions': {billingPlan: 'gold'}})
    expect(r.value.deploymentProfiles[0]!.extensions).toEqual({'x-devco-extensions': {gpuSharing: true}})
    expect(r.value.deploymentProfiles[0]!.components[0]!.extensions).toEqual({'x-devco-extensions': {priority: 'high'}})
  })

  test('extensions inside metadata, parameters and schema rules are tolerated too', () => {
    const r = parseApplicationDescription(g1(d => {
      d.metadata['x-foo-extensions'] = {a: 1}
      d.parameters.greeting['x-foo-extensions'] = {a: 1}
      d.configuration.schema[0]['x-foo-extensions'] = {a: 1}
    }))
    expect(r.ok && r.warnings).toEqual([])
  })

  test('an extension whose value is not a map is an error', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => { d['x-acme-extensions'] = 'gold' })))
    expect(e).toEqual([expect.objectContaining({field: 'x-acme-extensions', code: 'extension-not-object'})])
  })

  test('other unknown fields only warn', () => {
    const r = parseApplicationDescription(g1(d => { d.spec = {}; d.deploymentProfiles[0].components[0].extra = 1; d['x-Bad-extensions'] = {} }))
    if (!r.ok) throw new Error(JSON.stringify(r.errors))
    expect(fields(r.warnings).sort()).toEqual(['deploymentProfiles[0].components[0].extra', 'spec', 'x-Bad-extensions'])
  })
})

describe('deployment profiles and components', () => {
  test('profile ids are unique; component names unique within a profile, free across profiles', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => {
      const c = d.deploymentProfiles[0].components[0]
      d.deploymentProfiles[0].components.push(structuredClone(c))
      d.deploymentProfiles.push({type: 'helm.v3', id: d.deploymentProfiles[0].id, components: [structuredClone(c)]})
    })))
    expect(fields(e).sort()).toEqual(['deploymentProfiles[0].components[1].name', 'deploymentProfiles[1].id'])
  })

  test('component names allow only lowercase letters, digits and dashes', () => {
    for (const name of ['Hello', 'hello_world', 'hello.world', '']) {
      const e = errorsOf(parseApplicationDescription(g1(d => {
        d.deploymentProfiles[0].components[0].name = name
        d.parameters.greeting.targets[0].components = [name]
      })))
      expect(fields(e)).toEqual(['deploymentProfiles[0].components[0].name'])
    }
  })

  test('helm properties: repository URL scheme, revision required, timeout format, wait boolean', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => {
      d.deploymentProfiles[0].components[0].properties = {repository: 'quay.io/charts/x', timeout: '8 minutes', wait: 'maybe'}
    })))
    const base = 'deploymentProfiles[0].components[0].properties'
    expect(fields(e).sort()).toEqual([`${base}.repository`, `${base}.revision`, `${base}.timeout`, `${base}.wait`])
  })

  test.each(['8m30s', '90s', '5m'])('timeout %p is accepted', timeout => {
    expect(parseApplicationDescription(g1(d => { d.deploymentProfiles[0].components[0].properties.timeout = timeout })).ok).toBe(true)
  })

  test('wait: "true" (A24) is read as a boolean with a warning', () => {
    const r = parseApplicationDescription(g1(d => { d.deploymentProfiles[0].components[0].properties.wait = 'true' }))
    if (!r.ok) throw new Error(JSON.stringify(r.errors))
    expect(r.value.deploymentProfiles[0]!.components[0]!.properties.wait).toBe(true)
    expect(r.warnings[0]?.code).toBe('string-as-boolean')
  })

  test('compose properties need packageLocation; keyLocation must be a URL', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => {
      d.deploymentProfiles[0] = {type: 'compose', id: 'c', components: [{name: 'hello-world', properties: {keyLocation: 'key.asc'}}]}
    })))
    const base = 'deploymentProfiles[0].components[0].properties'
    expect(fields(e).sort()).toEqual([`${base}.keyLocation`, `${base}.packageLocation`])
  })

  test('unknown component properties are kept for the device, with a warning', () => {
    const r = parseApplicationDescription(g1(d => { d.deploymentProfiles[0].components[0].properties.atomic = true }))
    if (!r.ok) throw new Error(JSON.stringify(r.errors))
    expect(r.value.deploymentProfiles[0]!.components[0]!.properties.atomic).toBe(true)
    expect(fields(r.warnings)).toEqual(['deploymentProfiles[0].components[0].properties.atomic'])
  })
})

describe('requiredResources', () => {
  const withResources = (rr: unknown) => parseApplicationDescription(g1(d => { d.deploymentProfiles[0].requiredResources = rr }))
  const base = 'deploymentProfiles[0].requiredResources'

  test('valid resources are kept; x86_64 becomes amd64', () => {
    const r = withResources({cpu: {cores: 1.5, architectures: ['x86_64', 'arm64']}, memory: '512Mi', storage: '1Ti', peripherals: [{type: 'camera'}], interfaces: [{type: 'canbus'}]})
    if (!r.ok) throw new Error(JSON.stringify(r.errors))
    expect(r.value.deploymentProfiles[0]!.requiredResources).toEqual({
      cpu: {cores: 1.5, architectures: ['amd64', 'arm64']}, memory: '512Mi', storage: '1Ti', peripherals: [{type: 'camera'}], interfaces: [{type: 'canbus'}],
    })
  })

  test('bad quantities, cores, architectures and device types are errors', () => {
    const e = errorsOf(withResources({
      cpu: {cores: 0, architectures: ['sparc']}, memory: '4GB', storage: '1Ti ', peripherals: [{type: 'laser'}], interfaces: [{}],
    }))
    expect(fields(e).sort()).toEqual([
      `${base}.cpu.architectures[0]`, `${base}.cpu.cores`, `${base}.interfaces[0].type`, `${base}.memory`, `${base}.peripherals[0].type`, `${base}.storage`,
    ])
  })

  test('memory in Ti is not allowed (only Ki, Mi, Gi)', () => {
    expect(fields(errorsOf(withResources({memory: '1Ti'})))).toEqual([`${base}.memory`])
  })

  test('"other" without a profile description warns', () => {
    const r = withResources({interfaces: [{type: 'other'}]})
    expect(r.ok && fields(r.warnings)).toEqual([base])
  })
})

describe('parameters', () => {
  test('targets must be present and name components of some profile', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => {
      d.parameters.a = {targets: []}
      d.parameters.b = {value: 1}
      d.parameters.c = {targets: [{pointer: 'x', components: ['ghost']}]}
      d.parameters.d = {targets: [{components: ['hello-world']}]}
    })))
    expect(fields(e).sort()).toEqual([
      'parameters.a.targets', 'parameters.b.targets', 'parameters.c.targets[0].components[0]', 'parameters.d.targets[0].pointer',
    ])
  })

  test('a multi-profile description may target components of both profiles', () => {
    const r = parseApplicationDescription(MULTI_PROFILE)
    expect(r.ok && r.value.parameters.idpName!.targets.map(t => t.components[0])).toEqual(['digitron-orchestrator', 'digitron-orchestrator-docker'])
  })

  test('a default must be a scalar or a list of scalars', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => { d.parameters.greeting.value = {nested: true} })))
    expect(fields(e)).toEqual(['parameters.greeting.value'])
  })
})

describe('configuration', () => {
  test('settings must name an existing parameter and schema rule', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => {
      d.configuration.sections[0].settings.push({parameter: 'nope', name: 'Nope', schema: 'missingRule'})
    })))
    expect(fields(e).sort()).toEqual(['configuration.sections[0].settings[1].parameter', 'configuration.sections[0].settings[1].schema'])
  })

  test('sections and schema are both required when configuration is present', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => { d.configuration = {sections: []} })))
    expect(fields(e)).toEqual(['configuration.schema'])
  })

  test('dataType must be one of the eight types', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => { d.configuration.schema[0].dataType = 'text' })))
    expect(fields(e)).toEqual(['configuration.schema[0].dataType'])
  })

  test('the default must pass its own rule', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => { d.parameters.greeting.value = 'x'.repeat(46) })))
    expect(e).toEqual([expect.objectContaining({field: 'parameters.greeting.value', code: 'invalid-default'})])
  })

  test('minimum above maximum is an error', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => { d.configuration.schema[0].minLength = 50 })))
    expect(fields(e)).toContain('configuration.schema[0].minLength')
  })

  test('an invalid regexMatch is an error', () => {
    const e = errorsOf(parseApplicationDescription(g1(d => { d.configuration.schema[0].regexMatch = '([a-z' })))
    expect(fields(e)).toEqual(['configuration.schema[0].regexMatch'])
  })
})

describe('A18: rule keys follow the dataType; options make a Select', () => {
  const withRule = (rule: Doc) => parseApplicationDescription(g1(d => { d.configuration.schema[0] = {name: 'requireText', ...rule} }))

  test('text rule keys are rejected on an integer rule', () => {
    const e = errorsOf(withRule({dataType: 'integer', minLength: 1, minValue: 0}))
    expect(e).toEqual([expect.objectContaining({field: 'configuration.schema[0].minLength', code: 'unknown-rule-key'})])
  })

  test('precision keys are allowed on double and rejected on integer', () => {
    const good = parseApplicationDescription(g1(d => {
      d.parameters.greeting.value = 1.25
      d.configuration.schema[0] = {name: 'requireText', dataType: 'double', minPrecision: 1, maxPrecision: 2}
    }))
    expect(good.ok).toBe(true)
    const e = errorsOf(withRule({dataType: 'integer', maxPrecision: 2}))
    expect(fields(e)).toContain('configuration.schema[0].maxPrecision')
  })

  test('unknown rule keys are rejected, not just warned', () => {
    const e = errorsOf(withRule({dataType: 'string', description: 'free text'}))
    expect(fields(e)).toEqual(['configuration.schema[0].description'])
  })

  test('a rule with options is a Select: text keys are rejected, options checked against dataType', () => {
    const e = errorsOf(withRule({dataType: 'string', options: ['Hello', 'Hi'], maxLength: 5}))
    expect(fields(e)).toEqual(['configuration.schema[0].maxLength'])
    const ok = withRule({dataType: 'string', options: ['Hello', 'Hi']})
    expect(ok.ok).toBe(true)
    const notInOptions = withRule({dataType: 'string', options: ['Hi', 'Hey']})
    expect(fields(errorsOf(notInOptions))).toEqual(['parameters.greeting.value'])
    const badOption = parseApplicationDescription(g1(d => {
      d.parameters.greeting.value = 1
      d.configuration.schema[0] = {name: 'requireText', dataType: 'integer', options: [1, 'two']}
    }))
    expect(fields(errorsOf(badOption))).toEqual(['configuration.schema[0].options[1]'])
  })

  test('multiselect must be a boolean', () => {
    const e = errorsOf(withRule({dataType: 'array[string]', options: ['Hello'], multiselect: 'yes'}))
    expect(fields(e)).toContain('configuration.schema[0].multiselect')
  })
})
