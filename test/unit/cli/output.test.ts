import {describe, expect, test} from 'bun:test'
import {fields, formatTime, jsonDocument, keyValues, outputContext, paint, relativeTime, table, visibleLength} from '../../../src/cli/output.ts'

const now = new Date('2025-01-01T12:00:00.000Z')
const tty = {tty: true, color: false, now}
const colour = {tty: true, color: true, now}
const pipe = {tty: false, color: false, now}

describe('outputContext', () => {
  test('colour only on a terminal without NO_COLOR', () => {
    expect(outputContext({isTTY: true, env: {}}).color).toBe(true)
    expect(outputContext({isTTY: true, env: {NO_COLOR: '1'}}).color).toBe(false)
    expect(outputContext({isTTY: true, env: {NO_COLOR: ''}}).color).toBe(true)
    expect(outputContext({isTTY: false, env: {}})).toMatchObject({tty: false, color: false})
    expect(outputContext({isTTY: undefined, env: {}}).tty).toBe(false)
  })
})

describe('relativeTime', () => {
  test.each([
    ['2025-01-01T12:00:02.000Z', 'just now'],
    ['2025-01-01T11:59:30.000Z', '30s ago'],
    ['2025-01-01T11:57:00.000Z', '3m ago'],
    ['2025-01-01T07:00:00.000Z', '5h ago'],
    ['2024-12-29T12:00:00.000Z', '3d ago'],
    ['2025-01-01T12:10:00.000Z', 'in 10m'],
    ['2024-10-01T00:00:00.000Z', '2024-10-01'],
    ['not a date', 'not a date'],
  ])('%s → %s', (iso, expected) => {
    expect(relativeTime(iso, now)).toBe(expected)
  })
})

describe('formatTime', () => {
  test('relative on a terminal, ISO when piped, placeholders for missing', () => {
    expect(formatTime('2025-01-01T11:57:00.000Z', tty)).toBe('3m ago')
    expect(formatTime('2025-01-01T11:57:00.000Z', pipe)).toBe('2025-01-01T11:57:00.000Z')
    expect(formatTime(null, tty)).toBe('never')
    expect(formatTime(null, pipe)).toBe('-')
  })
})

describe('table', () => {
  const rows = [
    ['a1', 'short', 'x'],
    ['b22222', 'longer value', 'y'],
  ]
  test('terminal: header and aligned columns, no trailing spaces', () => {
    expect(table(['id', 'name', 'z'], rows, tty)).toBe(
      ['ID      NAME          Z', 'a1      short         x', 'b22222  longer value  y'].join('\n'),
    )
  })
  test('piped: tab-separated, no header, tabs and newlines inside cells flattened', () => {
    expect(table(['id', 'name'], [['a', 'b\tc\nd']], pipe)).toBe('a\tb c d')
    expect(table(['id', 'name', 'z'], rows, pipe)).toBe('a1\tshort\tx\nb22222\tlonger value\ty')
  })
  test('colour codes do not break alignment', () => {
    const out = table(['id', 'state'], [[{text: 'a', style: 'green'}, 'x'], ['bbbb', 'y']], colour)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matches terminal colour sequences
    const lines = out.split('\n').map(l => l.replace(/\u001B\[[0-9;]*m/g, ''))
    expect(lines).toEqual(['ID    STATE', 'a     x', 'bbbb  y'])
    expect(out).toContain('\u001B[32ma\u001B[39m')
  })
  test('styled cells are plain when colour is off', () => {
    expect(table(['s'], [[{text: 'ok', style: 'green'}]], tty)).toBe('S\nok')
  })
})

describe('fields', () => {
  const items = [
    {label: 'Client ID', key: 'clientId', value: 'abc'},
    {label: 'Labels', key: 'labels', value: 'site=a'},
  ]
  test('aligned labels on a terminal, key<TAB>value piped', () => {
    expect(fields(items, tty)).toBe('Client ID  abc\nLabels     site=a')
    expect(fields(items, pipe)).toBe('clientId\tabc\nlabels\tsite=a')
  })
})

describe('small helpers', () => {
  test('paint respects the colour switch', () => {
    expect(paint('x', 'red', {color: false})).toBe('x')
    expect(paint('x', 'red', {color: true})).toBe('\u001B[31mx\u001B[39m')
  })
  test('visibleLength ignores escape codes', () => {
    expect(visibleLength('\u001B[1mabc\u001B[22m')).toBe(3)
  })
  test('keyValues sorts keys and renders non-strings as JSON', () => {
    expect(keyValues({b: 2, a: 'x', c: true})).toBe('a=x, b=2, c=true')
    expect(keyValues(null)).toBe('')
  })
  test('jsonDocument is one document ending in a newline', () => {
    const text = jsonDocument({a: [1]})
    expect(JSON.parse(text)).toEqual({a: [1]})
    expect(text.endsWith('}\n')).toBe(true)
  })
})
