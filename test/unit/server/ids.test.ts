import {describe, expect, test} from 'bun:test'
import {findId, parseIdKinds, resolveId, type IdKind} from '../../../src/server/operator-api/ids.ts'
import type {ValidationError} from '../../../src/util/errors.ts'

/** The store's prefix query over fixed ids: sorted, limited, as SQLite answers it. */
function store(ids: Partial<Record<IdKind, string[]>>) {
  return {idsWithPrefix: (kind: IdKind, prefix: string, limit: number) => (ids[kind] ?? []).filter(id => id.startsWith(prefix)).sort().slice(0, limit)}
}

describe('findId', () => {
  const s = store({device: ['aaaa1111-x', 'aaaa2222-x', 'bbbb0000-x'], rollout: ['bbbb0000-x-rollout', 'cccc0000-r']})

  test('with a visibility rule, a prefix resolves among visible ids only and never names the others', () => {
    const onlyFirst = (_kind: IdKind, id: string) => id !== 'aaaa2222-x'
    expect(findId(s, ['device'], 'aaaa', onlyFirst)).toEqual({kind: 'device', id: 'aaaa1111-x'})
    expect(findId(s, ['device'], 'aaaa2', onlyFirst)).toBeNull()
    expect(findId(s, ['device'], 'aaaa2222-x', onlyFirst)).toBeNull()
    const many = store({device: Array.from({length: 20}, (_, i) => `dddd${String(i).padStart(4, '0')}`)})
    // Hidden ids do not use up the candidates a lookup reads.
    expect(findId(many, ['device'], 'dddd', (_k, id) => id === 'dddd0019')).toEqual({kind: 'device', id: 'dddd0019'})
  })

  test('a full id means itself even when it is the start of another id', () => {
    expect(findId(s, ['device', 'rollout'], 'bbbb0000-x')).toEqual({kind: 'device', id: 'bbbb0000-x'})
  })
  test('a unique prefix of 4 or more characters names its id; shorter ones name nothing', () => {
    expect(findId(s, ['device', 'rollout'], 'cccc')).toEqual({kind: 'rollout', id: 'cccc0000-r'})
    expect(findId(s, ['device', 'rollout'], 'ccc')).toBeNull()
    expect(resolveId(s, 'device', 'zzzz')).toBe('zzzz')
    expect(resolveId(s, 'device', 'aaaa2')).toBe('aaaa2222-x')
  })
  test('a shared prefix is refused with the candidates and their kinds when kinds differ', () => {
    expect(() => findId(s, ['device'], 'aaaa')).toThrow('aaaa is the start of 2 devices: aaaa1111-x, aaaa2222-x — give more characters of the id')
    const err = (() => { try { findId(s, ['device', 'rollout'], 'bbbb0') } catch (e) { return e as ValidationError } })()!
    expect(err.code).toBe('ambiguous_id')
    expect(err.message).toContain('bbbb0000-x (device), bbbb0000-x-rollout (rollout)')
  })
  test('many candidates: five are named, and the message says there are more', () => {
    const many = store({deployment: Array.from({length: 9}, (_, i) => `dddd000${i}`)})
    expect(() => findId(many, ['deployment'], 'dddd')).toThrow(/^dddd is the start of more than 5 deployments: dddd0000, .*dddd0004, … — give more/)
  })
  test('kinds of GET /ids: every kind by default, unknown ones refused', () => {
    expect(parseIdKinds(undefined)).toEqual(['device', 'deployment', 'rollout'])
    expect(parseIdKinds('rollout,deployment')).toEqual(['rollout', 'deployment'])
    expect(() => parseIdKinds('gadget')).toThrow('kinds must list')
  })
})
