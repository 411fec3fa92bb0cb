import {describe, expect, test} from 'bun:test'
import {diffManifests} from '../../../src/agent/sync/diff.ts'
import {chooseFetch} from '../../../src/agent/sync/fetch-plan.ts'
import {ID_A, ID_B, ID_C, deploymentYaml, manifestWith, ref} from './helpers.ts'

const a1 = ref(ID_A, deploymentYaml(ID_A, '1'), 1000)
const a2 = ref(ID_A, deploymentYaml(ID_A, '2'), 1000)
const b1 = ref(ID_B, deploymentYaml(ID_B, '1'), 1000)
const c1 = ref(ID_C, deploymentYaml(ID_C, '1'), 1000)
const bundle = new Uint8Array([1])

describe('CL-24: diff keyed by deploymentId', () => {
  test('first sync: everything is added', () => {
    const next = manifestWith(1, [a1, b1], bundle)
    expect(diffManifests(null, next)).toEqual({added: [a1, b1], updated: [], removed: [], unchanged: []})
  })

  test('add, update, remove and unchanged are told apart', () => {
    const prev = manifestWith(1, [a1, b1], bundle)
    const next = manifestWith(2, [a2, c1, b1], bundle)
    expect(diffManifests(prev, next)).toEqual({added: [c1], updated: [a2], removed: [], unchanged: [b1]})
    expect(diffManifests(next, manifestWith(3, [b1], bundle))).toEqual({added: [], updated: [], removed: [ID_A, ID_C], unchanged: [b1]})
  })

  test('§2.6: the empty desired state removes everything', () => {
    const prev = manifestWith(1, [a1, b1], bundle)
    expect(diffManifests(prev, manifestWith(2, [], null)).removed).toEqual([ID_A, ID_B])
  })

  test('ids match case-insensitively, as UUIDs do', () => {
    const prev = manifestWith(1, [a1], bundle)
    const upper = {...a1, deploymentId: ID_A.toUpperCase()}
    expect(diffManifests(prev, manifestWith(2, [upper], bundle))).toEqual({added: [], updated: [], removed: [], unchanged: [upper]})
  })
})

describe('§2.5.7: fetch plan', () => {
  test('nothing changed: no fetch', () => {
    const m = manifestWith(2, [a1], bundle)
    expect(chooseFetch(diffManifests(m, m), m, {initialSync: false})).toBe('none')
    const empty = manifestWith(3, [], null)
    expect(chooseFetch(diffManifests(m, empty), empty, {initialSync: false})).toBe('none')
  })

  test('initial sync prefers the bundle, even for one deployment', () => {
    const m = manifestWith(1, [a1], bundle, 5000)
    expect(chooseFetch(diffManifests(null, m), m, {initialSync: true})).toBe('bundle')
  })

  test('a large change set uses the bundle; the threshold is configurable', () => {
    const prev = manifestWith(1, [], null)
    const next = manifestWith(2, [a1, b1, c1], bundle, 100_000)
    expect(chooseFetch(diffManifests(prev, next), next, {initialSync: false})).toBe('bundle')
    expect(chooseFetch(diffManifests(prev, next), next, {initialSync: false, bundleThreshold: 4})).toBe('individual')
  })

  test('a small change set fetches individual YAMLs', () => {
    const prev = manifestWith(1, [a1, b1, c1], bundle, 100_000)
    const next = manifestWith(2, [a2, b1, c1], bundle, 100_000)
    expect(chooseFetch(diffManifests(prev, next), next, {initialSync: false})).toBe('individual')
  })

  test('CL-22: sizeBytes only steers the choice: a bundle smaller than the changed YAMLs wins', () => {
    const prev = manifestWith(1, [b1], bundle)
    const next = manifestWith(2, [a1, b1], bundle, 800)
    expect(chooseFetch(diffManifests(prev, next), next, {initialSync: false})).toBe('bundle')
    const unsized = manifestWith(2, [{...a1, sizeBytes: undefined}, b1], bundle, 800)
    expect(chooseFetch(diffManifests(prev, unsized), unsized, {initialSync: false})).toBe('individual')
  })
})
