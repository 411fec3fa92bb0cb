import {describe, expect, test} from 'bun:test'
import {Wheel} from '../../../src/simulate/scheduler.ts'
import {seededRandom} from '../../../src/simulate/faults.ts'

describe('the fleet scheduler', () => {
  test('hands out what is due, earliest first, up to a limit', () => {
    const w = new Wheel()
    w.schedule(1, 300)
    w.schedule(2, 100)
    w.schedule(3, 200)
    w.schedule(4, 900)
    expect(w.nextAt()).toBe(100)
    expect(w.takeDue(250)).toEqual([2, 3])
    expect(w.takeDue(1000, 1)).toEqual([1])
    expect(w.size).toBe(1)
    expect(w.takeDue(899)).toEqual([])
    expect(w.takeDue(900)).toEqual([4])
    expect(w.nextAt()).toBeNull()
  })

  test('keeps heap order over many random entries', () => {
    const rng = seededRandom(3)
    const w = new Wheel()
    const times = Array.from({length: 5000}, () => Math.floor(rng() * 1e6))
    for (const [i, t] of times.entries()) w.schedule(i, t)
    const out = w.takeDue(Infinity).map(i => times[i]!)
    expect(out).toEqual([...times].sort((a, b) => a - b))
  })
})
