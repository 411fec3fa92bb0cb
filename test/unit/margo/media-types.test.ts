import {describe, expect, test} from 'bun:test'
import {BUNDLE_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, negotiate, PROBLEM_MEDIA_TYPE, YAML_MEDIA_TYPE} from '../../../src/margo/media-types.ts'

describe('media types', () => {
  test('exact strings', () => {
    expect(MANIFEST_MEDIA_TYPE).toBe('application/vnd.margo.manifest.v1+json')
    expect(BUNDLE_MEDIA_TYPE).toBe('application/vnd.margo.bundle.v1+tar+gzip')
    expect(YAML_MEDIA_TYPE).toBe('application/yaml')
    expect(PROBLEM_MEDIA_TYPE).toBe('application/problem+json')
  })
})

describe('WFM-21 / A29: Accept negotiation for the manifest', () => {
  const ok = (accept: string | null) => negotiate(accept, MANIFEST_MEDIA_TYPE)

  test('an absent Accept gets the manifest', () => expect(ok(null)).toBe(true))

  test('the exact type, wildcards, parameters and case variations are acceptable', () => {
    for (const accept of [
      MANIFEST_MEDIA_TYPE, '*/*', 'application/*', 'APPLICATION/VND.MARGO.MANIFEST.V1+JSON',
      `${MANIFEST_MEDIA_TYPE}; charset=utf-8`, `${MANIFEST_MEDIA_TYPE};q=0.5`, 'text/plain, */*;q=0.1',
      'text/plain, application/vnd.margo.manifest.v1+json;q=0.5',
    ]) expect(ok(accept)).toBe(true)
  })

  test('several Accept lines (joined with commas) with an unparseable member still match', () => {
    expect(ok(`anim sunt, ${MANIFEST_MEDIA_TYPE}`)).toBe(true)
  })

  test('only unsupported types gives false (406)', () => {
    for (const accept of ['text/plain', 'application/json', 'application/yaml, text/html', 'application/vnd.margo.manifest.v2+json']) {
      expect(ok(accept)).toBe(false)
    }
  })

  test('q=0 excludes, and the most specific range decides', () => {
    expect(ok(`${MANIFEST_MEDIA_TYPE};q=0`)).toBe(false)
    expect(ok(`*/*, ${MANIFEST_MEDIA_TYPE};q=0`)).toBe(false)
    expect(ok(`application/*;q=0, ${MANIFEST_MEDIA_TYPE}`)).toBe(true)
    expect(ok('application/*;q=0, */*')).toBe(false)
    expect(ok('*/*;q=0.000')).toBe(false)
  })

  test('a field with no usable member counts as no preference', () => {
    expect(ok('')).toBe(true)
    expect(ok('anim sunt')).toBe(true)
    expect(ok(`${MANIFEST_MEDIA_TYPE};q=2`)).toBe(true) // invalid weight: the member is ignored, nothing usable remains
  })

  test('quoted parameter values with commas do not split members', () => {
    expect(ok(`text/plain;foo="a,${MANIFEST_MEDIA_TYPE}"`)).toBe(false)
  })
})
