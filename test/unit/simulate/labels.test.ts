import {describe, expect, test} from 'bun:test'
import {expandValues, labelsFor, parseLabelSpecs} from '../../../src/simulate/labels.ts'

describe('simulated device labels', () => {
  test('a brace range or list expands to the values it names', () => {
    expect(expandValues('plant-{1..3}')).toEqual(['plant-1', 'plant-2', 'plant-3'])
    expect(expandValues('line-{08..10}')).toEqual(['line-08', 'line-09', 'line-10'])
    expect(expandValues('{eu,us}-edge')).toEqual(['eu-edge', 'us-edge'])
    expect(expandValues('lab')).toEqual(['lab'])
    expect(() => expandValues('x-{5..1}')).toThrow(/counts down/)
  })

  test('fixed labels go to every device, spread ones round-robin', () => {
    const specs = parseLabelSpecs(['env=lab', 'site=plant-{1..3}'])
    expect([0, 1, 2, 3, 4].map(i => labelsFor(specs, i).site)).toEqual(['plant-1', 'plant-2', 'plant-3', 'plant-1', 'plant-2'])
    expect(labelsFor(specs, 7)).toEqual({env: 'lab', site: 'plant-2'})
  })

  test('an unquoted brace the shell already expanded spreads the same way', () => {
    expect(parseLabelSpecs(['site=plant-1', 'site=plant-2'])).toEqual([{key: 'site', values: ['plant-1', 'plant-2']}])
    expect(parseLabelSpecs(['env=lab,tier={a,b}'])).toEqual([{key: 'env', values: ['lab']}, {key: 'tier', values: ['a', 'b']}])
  })

  test('keys and values follow the label grammar; every problem is named', () => {
    let details: {path: string}[] = []
    try {
      parseLabelSpecs(['novalue', 'bad key=x', 'ok=not valid!'])
    } catch (err) {
      details = (err as {details: {path: string}[]}).details
    }
    expect(details.map(d => d.path)).toEqual(['novalue', 'bad key=x', 'ok=not valid!'])
  })
})
