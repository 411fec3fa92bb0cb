import {expect, test} from 'bun:test'
import {MAX_REFRESH_DELAY_MS, refreshDelay} from '../../../src/tui/model/refresh.ts'

test('a reload waits the debounce when reloads are quick, twice the last reload when they are slow, never more than the cap', () => {
  expect(refreshDelay(200, 0)).toBe(200)
  expect(refreshDelay(200, 40)).toBe(200)
  expect(refreshDelay(200, 900)).toBe(1_800)
  expect(refreshDelay(200, 60_000)).toBe(MAX_REFRESH_DELAY_MS)
})
