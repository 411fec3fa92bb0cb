import {expect, test} from 'bun:test'
import {CacheCoherence, HEARD_WITHIN_MS, SETTLE_MS} from '../../../src/server/store/postgres/coherence.ts'

const run = (c: CacheCoherence, notices: Parameters<CacheCoherence['apply']>[0], now: number) => {
  const forgotten: string[] = []
  let all = false
  const trusted = c.apply(notices, id => forgotten.push(id), () => { all = true }, now)
  return {trusted, forgotten, all}
}

test('the caches are trusted only while a beat sent within the window has come back', () => {
  const c = new CacheCoherence(0)
  expect(run(c, [], 1_000).trusted).toBe(false)
  expect(run(c, [{kind: 'heard', sentAt: 1_000}], 1_000 + HEARD_WITHIN_MS).trusted).toBe(true)
  expect(run(c, [], 1_001 + HEARD_WITHIN_MS).trusted).toBe(false)
  // An older beat arriving late does not make the caches fresh again.
  expect(run(c, [{kind: 'heard', sentAt: 900}], 1_100).trusted).toBe(true)
  expect(c.apply([{kind: 'heard', sentAt: 500}], () => {}, () => {}, 2_000)).toBe(false)
})

test('invalidations forget their clients and advance the applied record; a gap forgets everything', () => {
  const c = new CacheCoherence(10)
  const r = run(c, [{kind: 'invalidated', lastId: 12, clientIds: ['a', 'b']}, {kind: 'heard', sentAt: 5}], 5)
  expect(r).toEqual({trusted: true, forgotten: ['a', 'b'], all: false})
  expect(c.applied).toBe(12)
  expect(run(c, [{kind: 'forget-all', lastId: 40}], 5).all).toBe(true)
  expect(c.applied).toBe(40)
  c.readUpTo(30)
  expect(c.applied).toBe(40)
})

test('a command waits longer than any process may go without hearing it', () => {
  expect(SETTLE_MS).toBeGreaterThan(HEARD_WITHIN_MS)
})
