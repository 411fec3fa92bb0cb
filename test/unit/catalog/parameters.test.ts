import {describe, expect, test} from 'bun:test'
import {parseApplicationDescription} from '../../../src/margo/package/description.ts'
import {resolveParameterValues, type ParameterResult} from '../../../src/margo/package/parameters.ts'
import type {FieldError} from '../../../src/margo/result.ts'
import type {ApplicationDescription} from '../../../src/margo/package/types.ts'
import {MINIMAL_G1, MULTI_PROFILE} from './fixtures.ts'

function load(source: string | unknown): ApplicationDescription {
  const r = parseApplicationDescription(source)
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.value
}

const g1 = load(MINIMAL_G1)
const multi = load(MULTI_PROFILE)
/** siteId has no default and is required; everything else has a valid default. */
const base = {siteId: 'SID-123-ABC'}

function values(r: ParameterResult) {
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.values
}

function errors(r: ParameterResult): FieldError[] {
  if (r.ok) throw new Error(`expected errors, got ${JSON.stringify(r.values)}`)
  return r.errors
}

/** A description with one parameter `p` bound to the given rule. */
function withRule(rule: Record<string, unknown>, value?: unknown): ApplicationDescription {
  return load({
    apiVersion: 'margo.org/v1-alpha1',
    kind: 'ApplicationDescription',
    metadata: {id: 'app', name: 'App', version: '1', catalog: {organization: [{name: 'Org'}]}},
    deploymentProfiles: [{type: 'compose', id: 'c', components: [{name: 'app', properties: {packageLocation: 'https://example.com/app.tar.gz'}}]}],
    parameters: {p: {...(value === undefined ? {} : {value}), targets: [{pointer: 'P', components: ['app']}]}},
    configuration: {
      sections: [{name: 'S', settings: [{parameter: 'p', name: 'P setting', schema: 'r'}]}],
      schema: [{name: 'r', ...rule}],
    },
  })
}

describe('spec §3.4 step 2: user value, else default', () => {
  test('defaults are used when the user gives nothing', () => {
    expect(values(resolveParameterValues(g1, {}))).toEqual({greeting: 'Hello'})
  })

  test('a user value wins over the default', () => {
    expect(values(resolveParameterValues(g1, {greeting: 'Howdy'}))).toEqual({greeting: 'Howdy'})
  })

  test('the multi-profile defaults resolve with native types', () => {
    expect(values(resolveParameterValues(multi, base))).toEqual({
      idpName: 'Keycloak', pollFrequency: 120, siteId: 'SID-123-ABC', dbOnly: 'yes', threshold: 2, logLevels: ['info'], debug: false,
    })
  })

  test('unknown user keys are errors naming the key', () => {
    const e = errors(resolveParameterValues(g1, {greting: 'typo'}))
    expect(e).toEqual([expect.objectContaining({field: 'parameters.greting', code: 'unknown-parameter'})])
  })

  test('a required parameter with no value and no default is an error naming it', () => {
    const e = errors(resolveParameterValues(multi, {}))
    expect(e).toEqual([expect.objectContaining({field: 'parameters.siteId', code: 'required'})])
  })
})

describe('WFM-44: values are coerced to the dataType, then checked against every rule', () => {
  test('command-line strings become integers, doubles, booleans and lists', () => {
    const v = values(resolveParameterValues(multi, {...base, pollFrequency: '300', threshold: '2.5', debug: 'true', logLevels: 'debug, warn'}))
    expect(v.pollFrequency).toBe(300)
    expect(v.threshold).toBe(2.5)
    expect(v.debug).toBe(true)
    expect(v.logLevels).toEqual(['debug', 'warn'])
  })

  test('a JSON array is accepted for a list', () => {
    expect(values(resolveParameterValues(multi, {...base, logLevels: '["error"]'})).logLevels).toEqual(['error'])
  })

  test('a string setting keeps digits as a string', () => {
    expect(values(resolveParameterValues(g1, {greeting: '123'})).greeting).toBe('123')
  })

  test.each([
    ['pollFrequency', '12.5', 'type'],
    ['pollFrequency', 'often', 'type'],
    ['pollFrequency', '10', 'invalid'],
    ['pollFrequency', 7200, 'invalid'],
    ['threshold', 'ten', 'type'],
    ['threshold', '11', 'invalid'],
    ['threshold', '2.555', 'invalid'],
    ['debug', 'yes', 'type'],
    ['idpName', 'ab', 'invalid'],
    ['idpName', 'x'.repeat(46), 'invalid'],
    ['siteId', 'SID-12-ABC', 'invalid'],
    ['logLevels', 'debug,trace', 'invalid'],
    ['logLevels', '[broken', 'type'],
  ])('%s = %p is rejected (%s)', (name, value, code) => {
    const e = errors(resolveParameterValues(multi, {...base, [name]: value}))
    expect(e).toHaveLength(1)
    expect(e[0]).toMatchObject({field: `parameters.${name}`, code})
  })

  test('every invalid parameter is reported, not only the first', () => {
    const e = errors(resolveParameterValues(multi, {pollFrequency: '1', debug: 'maybe'}))
    expect(e.map(x => x.field).sort()).toEqual(['parameters.debug', 'parameters.pollFrequency', 'parameters.siteId'])
  })

  test('minPrecision and maxPrecision count digits after the decimal point as written', () => {
    const d = withRule({dataType: 'double', minPrecision: 2, maxPrecision: 3})
    expect(values(resolveParameterValues(d, {p: '1.50'})).p).toBe(1.5)
    expect(errors(resolveParameterValues(d, {p: '1.5'}))[0]!.message).toContain('at least 2 digits')
    expect(errors(resolveParameterValues(d, {p: 1.2345}))[0]!.message).toContain('at most 3 digits')
    expect(values(resolveParameterValues(d, {p: 1.5})).p).toBe(1.5)
  })

  test('integer rules reject fractions even as native numbers', () => {
    const d = withRule({dataType: 'integer', minValue: 1})
    expect(errors(resolveParameterValues(d, {p: 2.5}))[0]!.code).toBe('type')
    expect(values(resolveParameterValues(d, {p: 2})).p).toBe(2)
  })

  test('array rules apply text rules to each item', () => {
    const d = withRule({dataType: 'array[string]', maxLength: 3})
    expect(values(resolveParameterValues(d, {p: 'a,bc'})).p).toEqual(['a', 'bc'])
    expect(errors(resolveParameterValues(d, {p: 'a,long'}))[0]!.message).toContain('item 1')
  })

  test('array[integer] items are coerced and checked', () => {
    const d = withRule({dataType: 'array[integer]', minValue: 0})
    expect(values(resolveParameterValues(d, {p: '1,2,3'})).p).toEqual([1, 2, 3])
    expect(errors(resolveParameterValues(d, {p: '1,-2'}))[0]!.message).toContain('item 1')
    expect(errors(resolveParameterValues(d, {p: '1,x'}))[0]!.code).toBe('type')
  })
})

describe('A16: allowEmpty means an empty or missing value is allowed', () => {
  test('allowEmpty: false rejects an empty string', () => {
    const e = errors(resolveParameterValues(g1, {greeting: ''}))
    expect(e).toEqual([expect.objectContaining({field: 'parameters.greeting'})])
  })

  test('allowEmpty: true accepts an empty string and a missing value', () => {
    const d = withRule({dataType: 'string', allowEmpty: true, minLength: 3})
    expect(values(resolveParameterValues(d, {p: ''}))).toEqual({p: ''})
    expect(values(resolveParameterValues(d, {}))).toEqual({})
  })

  test('without allowEmpty a value is required', () => {
    const d = withRule({dataType: 'integer'})
    expect(errors(resolveParameterValues(d, {}))[0]!.code).toBe('required')
    expect(errors(resolveParameterValues(d, {p: ''}))[0]!.code).toBe('required')
  })

  test('allowEmpty: true on a list accepts no items', () => {
    const d = withRule({dataType: 'array[string]', options: ['a', 'b'], multiselect: true, allowEmpty: true})
    expect(values(resolveParameterValues(d, {p: ''}))).toEqual({p: []})
  })
})

describe('A18: a rule with options is a Select', () => {
  test('single select takes one of the options', () => {
    const d = withRule({dataType: 'string', options: ['red', 'green']}, 'red')
    expect(values(resolveParameterValues(d, {p: 'green'})).p).toBe('green')
    expect(errors(resolveParameterValues(d, {p: 'blue'}))[0]!.message).toContain('not one of the options')
    expect(errors(resolveParameterValues(d, {p: ['red']}))[0]!.code).toBe('type')
  })

  test('multiselect takes a list of options', () => {
    const d = withRule({dataType: 'array[integer]', options: [1, 2, 3], multiselect: true}, [1])
    expect(values(resolveParameterValues(d, {p: '1,3'})).p).toEqual([1, 3])
    expect(errors(resolveParameterValues(d, {p: '4'}))[0]!.message).toContain('not one of the options')
  })
})

describe('WFM-46: immutable settings cannot change once applied', () => {
  const installed = values(resolveParameterValues(multi, base))

  test('changing an immutable value after install is rejected with code immutable', () => {
    const e = errors(resolveParameterValues(multi, {siteId: 'SID-999-XYZ'}, {values: installed, applied: true}))
    expect(e).toEqual([expect.objectContaining({field: 'parameters.siteId', code: 'immutable'})])
    expect(e[0]!.message).toContain('immutable')
  })

  test('the same immutable value, and changes to mutable settings, are accepted', () => {
    const v = values(resolveParameterValues(multi, {...base, pollFrequency: '60'}, {values: installed, applied: true}))
    expect(v.siteId).toBe('SID-123-ABC')
    expect(v.pollFrequency).toBe(60)
  })

  test('before the values were applied, immutable settings may still change', () => {
    const v = values(resolveParameterValues(multi, {siteId: 'SID-999-XYZ'}, {values: installed, applied: false}))
    expect(v.siteId).toBe('SID-999-XYZ')
  })

  test('an immutable parameter that falls back to a changed default is also a change', () => {
    const d = withRule({dataType: 'string'}, 'new-default')
    d.configuration!.sections[0]!.settings[0]!.immutable = true
    const e = errors(resolveParameterValues(d, {}, {values: {p: 'old-default'}, applied: true}))
    expect(e[0]!.code).toBe('immutable')
  })
})
