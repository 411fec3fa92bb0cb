import {describe, expect, test} from 'bun:test'
import {describeSelectorError, formatSelector, matchesSelector, parseSelector, type Selector} from '../../../src/operator-contract/selector.ts'

function parsed(text: string): Selector {
  const r = parseSelector(text)
  if (!r.ok) throw new Error(`${text}: ${describeSelectorError(r.error)}`)
  return r.selector
}
const matches = (text: string, labels: Record<string, string>) => matchesSelector(parsed(text), labels)

describe('parseSelector', () => {
  test('every operator, with or without spaces', () => {
    expect(parsed('site=a, line == 2 ,tier!=edge,zone in (n, s),rack notin(1),gpu,!canary').requirements).toEqual([
      {key: 'site', operator: 'eq', values: ['a']},
      {key: 'line', operator: 'eq', values: ['2']},
      {key: 'tier', operator: 'neq', values: ['edge']},
      {key: 'zone', operator: 'in', values: ['n', 's']},
      {key: 'rack', operator: 'notin', values: ['1']},
      {key: 'gpu', operator: 'exists', values: []},
      {key: 'canary', operator: 'notexists', values: []},
    ])
  })

  test('prefixed keys, empty values and the empty selector', () => {
    expect(parsed('example.com/zone=north').requirements[0]!.key).toBe('example.com/zone')
    expect(parsed('site=').requirements).toEqual([{key: 'site', operator: 'eq', values: ['']}])
    expect(parsed('').requirements).toEqual([])
    expect(parsed('   ').requirements).toEqual([])
  })

  test('the canonical text parses back to the same selector', () => {
    const text = formatSelector(parsed(' site = a ,zone in ( n,s ), !canary'))
    expect(text).toBe('site=a,zone in (n,s),!canary')
    expect(formatSelector(parsed(text))).toBe(text)
  })

  test.each([
    ['site=a,', 7, 'expected a label key, got the end of the selector'],
    ['site in (a,b', 12, 'expected "," or ")" in the values of site, got the end of the selector'],
    ['site in a', 8, 'expected "(" to start the values of site, got "a"'],
    ['site in ()', 9, 'expected a label value, got ")"'],
    ['site=a b', 7, 'expected "," between requirements, got "b"'],
    ['site >= 3', 5, 'expected =, ==, !=, in, notin, "," or the end after label key site, got ">"'],
    ['-bad=1', 0, 'label key "-bad": the name must be letters, digits'],
    ['site=has/slash', 5, 'label value "has/slash": the value must be letters, digits'],
    [`k=${'v'.repeat(64)}`, 2, 'the value is 64 characters long; at most 63 are allowed'],
    ['!', 1, 'expected a label key, got the end of the selector'],
  ])('%p fails at offset %p', (text, position, message) => {
    const r = parseSelector(text)
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.position).toBe(position)
    expect(r.error.message).toContain(message)
    expect(describeSelectorError(r.error)).toStartWith(`invalid selector at column ${position + 1}: `)
  })
})

describe('matchesSelector', () => {
  const device = {site: 'plant-7', line: '2', gpu: ''}
  test('the empty selector matches every device, labelled or not', () => {
    expect(matches('', device)).toBe(true)
    expect(matches('', {})).toBe(true)
  })
  test('equality and inequality; != also matches devices without the label', () => {
    expect(matches('site=plant-7', device)).toBe(true)
    expect(matches('site==plant-8', device)).toBe(false)
    expect(matches('site!=plant-8', device)).toBe(true)
    expect(matches('site!=plant-7', device)).toBe(false)
    expect(matches('zone!=north', device)).toBe(true)
    expect(matches('gpu=', device)).toBe(true)
  })
  test('set membership; notin also matches devices without the label', () => {
    expect(matches('line in (1,2)', device)).toBe(true)
    expect(matches('line in (1,3)', device)).toBe(false)
    expect(matches('line notin (1,3)', device)).toBe(true)
    expect(matches('zone notin (a)', device)).toBe(true)
    expect(matches('zone in (a)', device)).toBe(false)
  })
  test('existence, absence and AND of all requirements', () => {
    expect(matches('gpu', device)).toBe(true)
    expect(matches('!gpu', device)).toBe(false)
    expect(matches('!canary', device)).toBe(true)
    expect(matches('site=plant-7,line in (1,2),!canary', device)).toBe(true)
    expect(matches('site=plant-7,line in (1,3)', device)).toBe(false)
  })
  test('inherited object keys are not labels', () => {
    expect(matches('constructor', {})).toBe(false)
    expect(matches('toString!=x', {})).toBe(true)
  })
})
