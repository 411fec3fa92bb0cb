import {describe, expect, test} from 'bun:test'
import {checkDocumentBounds, readStoredJson, type DocumentLimits} from '../../../src/margo/limits.ts'
import {parseCapabilities} from '../../../src/margo/capabilities.ts'
import {parseDeploymentStatus} from '../../../src/margo/status.ts'
import {G1_CAPABILITIES, clone, STATUS_EXAMPLE} from './fixtures.ts'

const SMALL: DocumentLimits = {maxDepth: 3, maxEntries: 10, maxExtensionBytes: 16}
const deep = (depth: number) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown

describe('device document bounds', () => {
  test('nesting is checked without recursion, even a million levels deep, and the path is named', () => {
    const errors = checkDocumentBounds({a: deep(1_000_000)})
    expect(errors).toHaveLength(1)
    expect(errors[0]!.code).toBe('too_deep')
    expect(errors[0]!.field).toBe('a' + '[0]'.repeat(31))
  })

  test('depth, entries and extension sizes at and over the limit', () => {
    expect(checkDocumentBounds({a: {b: {c: 1}}}, SMALL)).toEqual([])
    expect(checkDocumentBounds({a: {b: {c: {}}}}, SMALL).map(e => e.field)).toEqual(['a.b.c'])
    expect(checkDocumentBounds({list: Array.from({length: 9}, () => 0)}, SMALL)).toEqual([])
    expect(checkDocumentBounds({list: Array.from({length: 10}, () => 0)}, SMALL).map(e => e.code)).toEqual(['too_many_entries'])
    expect(checkDocumentBounds({'x-a-extensions': {k: 'short'}}, SMALL)).toEqual([])
    expect(checkDocumentBounds({'x-a-extensions': {k: 'much longer than that'}, 'x-b-extensions': {}}, SMALL).map(e => e.field)).toEqual(['x-a-extensions'])
  })

  test('the validators apply the bounds first', () => {
    const caps = {...clone(G1_CAPABILITIES) as object, 'x-acme-extensions': {deep: deep(100)}}
    const r = parseCapabilities(caps)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.errors[0]!.field).toStartWith('x-acme-extensions.deep')
    const s = parseDeploymentStatus({...clone(STATUS_EXAMPLE) as object, 'x-acme-extensions': {pad: 'x'.repeat(70 * 1024)}})
    expect(s.ok).toBe(false)
    if (!s.ok) expect(s.errors.map(e => e.field)).toEqual(['x-acme-extensions'])
  })

  test('stored JSON is read back without throwing: undefined when broken or beyond the limits', () => {
    expect(readStoredJson('{"a": 1}')).toEqual({a: 1})
    expect(readStoredJson('{"a":')).toBeUndefined()
    expect(readStoredJson('['.repeat(50_000) + ']'.repeat(50_000))).toBeUndefined()
  })
})
