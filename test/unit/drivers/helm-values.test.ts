import {describe, expect, test} from 'bun:test'
import {parse} from 'yaml'
import {DriverError} from '../../../src/agent/drivers/errors.ts'
import {buildHelmValues, helmValuesYaml, parseValuesPointer, renderValuesYaml} from '../../../src/agent/drivers/helm-values.ts'
import {deployment} from './helpers.ts'

const chart = {repository: 'oci://r/c', revision: '1.0.0'}

/** Reads values the way helm (Go yaml.v2, YAML 1.1) and a YAML 1.2 reader would. */
function readBoth(text: string): {v11: unknown, v12: unknown} {
  return {v11: parse(text, {version: '1.1'}), v12: parse(text, {version: '1.2'})}
}

describe('helm values pointers (--set syntax)', () => {
  test('CL-26: dots separate keys, backslash escapes a dot, [n] indexes lists', () => {
    expect(parseValuesPointer('settings.pollFrequency')).toEqual([{key: 'settings'}, {key: 'pollFrequency'}])
    expect(parseValuesPointer('annotations.prometheus\\.io/scrape')).toEqual([{key: 'annotations'}, {key: 'prometheus.io/scrape'}])
    expect(parseValuesPointer('servers[0].port')).toEqual([{key: 'servers'}, {index: 0}, {key: 'port'}])
    expect(parseValuesPointer('matrix[1][2]')).toEqual([{key: 'matrix'}, {index: 1}, {index: 2}])
    expect(parseValuesPointer('a\\\\b')).toEqual([{key: 'a\\b'}])
  })

  test('CL-26: malformed pointers are refused', () => {
    for (const bad of ['', '.a', 'a.', 'a..b', 'a[x]', 'a[', 'a[0]b', 'a]', '[0]', 'a\\', 'a[99999999]']) {
      expect(() => parseValuesPointer(bad)).toThrow()
    }
  })
})

describe('helm values documents', () => {
  test('CL-26: a parameter lands only in the components its targets list, with its native type', () => {
    const d = deployment('helm.v3', [{name: 'orchestrator', properties: chart}, {name: 'db', properties: chart}], {
      pollFrequency: {value: 120, targets: [{pointer: 'settings.pollFrequency', components: ['orchestrator', 'db']}]},
      siteId: {value: 'SID-123', targets: [{pointer: 'settings.site.id', components: ['orchestrator']}]},
      debug: {value: true, targets: [{pointer: 'debug', components: ['db']}]},
    })
    expect(readBoth(helmValuesYaml(d, 'orchestrator')).v11).toEqual({settings: {pollFrequency: 120, site: {id: 'SID-123'}}})
    expect(readBoth(helmValuesYaml(d, 'db')).v11).toEqual({settings: {pollFrequency: 120}, debug: true})
  })

  test('CL-26: strings that look like other types stay strings for YAML 1.1 and 1.2 readers alike', () => {
    const tricky = ['yes', 'no', 'on', 'off', 'y', 'n', 'true', 'false', 'True', '0755', '1.0', '120', '1_000', '0x1F', '12:30', '~', 'null', '', '.inf', '1e3', 'a: b', '# x', 'line1\nline2', 'quote " and \\ back', '- item', '@at', '`tick', '%pct', 'é😀']
    const params: Record<string, unknown> = {}
    for (const [i, value] of tricky.entries()) params[`p${i}`] = {value, targets: [{pointer: `s.k${i}`, components: ['c']}]}
    const d = deployment('helm.v3', [{name: 'c', properties: chart}], params)
    const text = helmValuesYaml(d, 'c')
    const expected = {s: Object.fromEntries(tricky.map((v, i) => [`k${i}`, v]))}
    const {v11, v12} = readBoth(text)
    expect(v11).toEqual(expected)
    expect(v12).toEqual(expected)
    // The exact spelling helm sees for the classic YAML 1.1 traps.
    expect(text).toContain('"k0": "yes"')
    expect(text).toContain('"k2": "on"')
    expect(text).toContain('"k9": "0755"')
    expect(text).toContain('"k10": "1.0"')
  })

  test('CL-26: keys that YAML 1.1 would read as booleans stay string keys', () => {
    const d = deployment('helm.v3', [{name: 'c', properties: chart}], {
      p: {value: 'x', targets: [{pointer: 'features.on', components: ['c']}]},
      q: {value: 1, targets: [{pointer: 'y', components: ['c']}]},
    })
    expect(readBoth(helmValuesYaml(d, 'c')).v11).toEqual({features: {on: 'x'}, y: 1})
  })

  test('A24: "true" as a string parameter stays the string "true"; numbers and booleans are never quoted', () => {
    const d = deployment('helm.v3', [{name: 'c', properties: chart}], {
      s: {value: 'true', targets: [{pointer: 'asString', components: ['c']}]},
      b: {value: false, targets: [{pointer: 'asBool', components: ['c']}]},
      f: {value: 2.5, targets: [{pointer: 'asFloat', components: ['c']}]},
      i: {value: -7, targets: [{pointer: 'asInt', components: ['c']}]},
    })
    const text = helmValuesYaml(d, 'c')
    expect(text).toContain('"asString": "true"')
    expect(text).toContain('"asBool": false')
    expect(text).toContain('"asFloat": 2.5')
    expect(text).toContain('"asInt": -7')
  })

  test('CL-26: list indexes create lists padded with null; list values become YAML lists', () => {
    const d = deployment('helm.v3', [{name: 'c', properties: chart}], {
      port: {value: 8080, targets: [{pointer: 'servers[1].port', components: ['c']}]},
      hosts: {value: ['a.example', 'b.example'], targets: [{pointer: 'ingress.hosts', components: ['c']}]},
    })
    expect(readBoth(helmValuesYaml(d, 'c')).v11).toEqual({servers: [null, {port: 8080}], ingress: {hosts: ['a.example', 'b.example']}})
  })

  test('later pointers win over earlier ones, as repeated --set flags do', () => {
    const d = deployment('helm.v3', [{name: 'c', properties: chart}], {
      first: {value: 'scalar', targets: [{pointer: 'a', components: ['c']}]},
      second: {value: 1, targets: [{pointer: 'a.b', components: ['c']}]},
    })
    expect(readBoth(helmValuesYaml(d, 'c')).v11).toEqual({a: {b: 1}})
  })

  test('__proto__ is an ordinary key, never the prototype', () => {
    const d = deployment('helm.v3', [{name: 'c', properties: chart}], {
      p: {value: 'x', targets: [{pointer: '__proto__.polluted', components: ['c']}]},
    })
    const values = buildHelmValues(d, 'c')
    expect(values.get('__proto__')).toBeInstanceOf(Map)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(renderValuesYaml(values)).toContain('"__proto__":')
  })

  test('no parameters gives an empty mapping', () => {
    const d = deployment('helm.v3', [{name: 'c', properties: chart}])
    expect(helmValuesYaml(d, 'c').trim()).toBe('{}')
  })

  test('a malformed pointer fails the component with HELM_VALUES_INVALID naming the parameter', () => {
    const d = deployment('helm.v3', [{name: 'c', properties: chart}], {broken: {value: 1, targets: [{pointer: 'a..b', components: ['c']}]}})
    try {
      buildHelmValues(d, 'c')
      throw new Error('expected a failure')
    } catch (e) {
      expect(e).toBeInstanceOf(DriverError)
      expect((e as DriverError).code).toBe('HELM_VALUES_INVALID')
      expect((e as DriverError).message).toContain('broken')
    }
  })
})
