import {describe, expect, test} from 'bun:test'
import {parse as parseYaml} from 'yaml'
import {renderSettings} from '../../../src/util/print-config.ts'

describe('--print-config rendering, shared by serve and agent', () => {
  test('one line per key with its source; unset keys as comments', () => {
    expect(renderSettings({listen: ':8443', server: 'https://wfm.example/v1alpha2/margo', tls: undefined, once: false}, {listen: 'flag', server: 'file'}).split('\n')).toEqual([
      'listen: ":8443"  # from flag',
      'server: https://wfm.example/v1alpha2/margo  # from file',
      '# tls: (not set)',
      'once: false  # from default',
    ])
  })

  test('strings YAML would read differently are quoted', () => {
    const out = renderSettings({a: '', b: '1.3', c: 'true', d: 'x: y', e: 'a # b', f: ' lead', g: '-x', h: 'two\nlines', i: '0.0.0.0:443', j: '<redacted>'}, {})
    expect(out.split('\n').map(l => l.replace(/ {2}# from default$/, ''))).toEqual([
      'a: ""', 'b: "1.3"', 'c: "true"', 'd: "x: y"', 'e: "a # b"', 'f: " lead"', 'g: "-x"', 'h: "two\\nlines"', 'i: 0.0.0.0:443', 'j: <redacted>',
    ])
  })

  test('lists of scalars stay on one line; mappings become a block under the key', () => {
    const out = renderSettings({san: ['a', 'b'], none: [], caps: {roles: ['standalone-cluster'], resources: {cpu: {cores: 4}}}, empty: {}}, {caps: 'file'})
    expect(out).toBe([
      'san: ["a", "b"]  # from default',
      'none: []  # from default',
      'caps:  # from file',
      '  roles:',
      '    - standalone-cluster',
      '  resources:',
      '    cpu:',
      '      cores: 4',
      'empty: {}  # from default',
    ].join('\n'))
  })

  test('the output reads back as the same settings', () => {
    const settings = {listen: ':8443', path: '', n: 1024, ok: true, list: ['06:00-22:00', '6:00'], nested: {a: {b: ':x'}}, odd: 'null'}
    expect(parseYaml(renderSettings(settings, {}))).toEqual(settings)
  })
})
