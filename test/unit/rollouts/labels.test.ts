import {describe, expect, test} from 'bun:test'
import {labelKeyProblem, labelMapProblems, labelValueProblem, mergeLabels, parseLabelArguments} from '../../../src/operator-contract/labels.ts'

describe('label keys and values (Kubernetes rules)', () => {
  test.each(['site', 'line_2', 'a.b-c', 'example.com/zone', 'k8s.io/arch', 'A', 'x'.repeat(63)])('key %p is valid', key => {
    expect(labelKeyProblem(key)).toBeNull()
  })
  test.each([
    ['', 'empty'],
    ['-site', 'starting and ending with a letter or digit'],
    ['site.', 'starting and ending'],
    ['bad key', 'letters, digits'],
    ['x'.repeat(64), '64 characters long'],
    ['/name', 'prefix before "/" is empty'],
    ['Example.com/name', 'DNS subdomain'],
    ['example.com/', 'name after "/" is empty'],
    [`${'a'.repeat(254)}/n`, 'at most 253'],
    ['a/b/c', 'letters, digits'],
  ])('key %p is refused: %p', (key, message) => {
    expect(labelKeyProblem(key)).toContain(message)
  })
  test('values: empty allowed, at most 63 characters, no slashes or spaces', () => {
    expect(labelValueProblem('')).toBeNull()
    expect(labelValueProblem('plant-7')).toBeNull()
    expect(labelValueProblem('v'.repeat(63))).toBeNull()
    expect(labelValueProblem('v'.repeat(64))).toContain('64 characters long')
    expect(labelValueProblem('a/b')).not.toBeNull()
    expect(labelValueProblem('a b')).not.toBeNull()
    expect(labelValueProblem('_a')).not.toBeNull()
  })
})

describe('label maps and merge patches', () => {
  test('every problem is reported with its path; null is allowed only in patches', () => {
    expect(labelMapProblems({ok: 'yes', 'bad key': 'x', n: 3, gone: null}, {allowNull: false}).map(p => p.path)).toEqual(['labels.bad key', 'labels.n', 'labels.gone'])
    expect(labelMapProblems({gone: null}, {allowNull: true})).toEqual([])
  })
  test('a merge sets, replaces and removes; the result is sorted by key', () => {
    expect(mergeLabels({site: 'a', line: '1'}, {line: '2', zone: 'n', site: null})).toEqual({line: '2', zone: 'n'})
    expect(Object.keys(mergeLabels({b: '1'}, {a: '2'}))).toEqual(['a', 'b'])
  })
  test('command-line arguments: key=value sets, key- removes, and all problems come back together', () => {
    expect(parseLabelArguments(['site=plant-7', 'line-', 'empty=', 'example.com/zone=n'])).toEqual({ok: true, patch: {site: 'plant-7', line: null, empty: '', 'example.com/zone': 'n'}})
    const bad = parseLabelArguments(['=x', 'plain', '-', 'k=a/b'])
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.problems.map(p => p.path)).toEqual(['=x', 'plain', '-', 'k=a/b'])
  })
})
