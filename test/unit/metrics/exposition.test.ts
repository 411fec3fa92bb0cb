import {expect, test} from 'bun:test'
import {mergeFamilies, Registry, renderExposition, withLabels} from '../../../src/util/metrics.ts'
import {parseExposition} from '../../exposition.ts'

test('counters, gauges and histograms render as the text format and parse back', () => {
  const r = new Registry()
  const c = r.counter('margo_x_total', 'Things.')
  c.inc({route: '/a', status: '200'})
  c.inc({route: '/a', status: '200'}, 2)
  c.inc({route: 'quote"back\\slash\nline', status: '500'})
  r.gauge('margo_g', 'A gauge.').set({}, 7)
  const h = r.histogram('margo_h_seconds', 'Timings.', [0.1, 1])
  h.observe({}, 0.05)
  h.observe({}, 0.5)
  h.observe({}, 5)
  const {types, samples} = parseExposition(renderExposition(r.collect()))
  expect(types.get('margo_x_total')).toBe('counter')
  expect(types.get('margo_h_seconds')).toBe('histogram')
  expect(samples.find(s => s.name === 'margo_x_total' && s.labels.route === '/a')?.value).toBe(3)
  expect(samples.find(s => s.labels.route?.startsWith('quote'))?.labels.route).toBe('quote"back\\slash\nline')
  expect(samples.filter(s => s.name === 'margo_h_seconds_bucket').map(s => [s.labels.le, s.value])).toEqual([['0.1', 1], ['1', 2], ['+Inf', 3]])
  expect(samples.find(s => s.name === 'margo_h_seconds_count')?.value).toBe(3)
})

test('families from several processes merge into one family each, told apart by worker', () => {
  const a = new Registry()
  a.counter('margo_x_total', 'Things.').inc({status: '200'})
  const b = new Registry()
  b.counter('margo_x_total', 'Things.').inc({status: '200'}, 4)
  const text = renderExposition(mergeFamilies([withLabels(a.collect(), {worker: '0'}), withLabels(b.collect(), {worker: '1'})]))
  const {samples} = parseExposition(text)
  expect(samples.map(s => [s.labels.worker, s.value])).toEqual([['0', 1], ['1', 4]])
})
