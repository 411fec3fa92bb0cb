import {describe, expect, test} from 'bun:test'
import {amountOf, parseStrategy} from '../../../src/server/rollouts/strategy/spec.ts'
import {assignWaves, waveHash} from '../../../src/server/rollouts/strategy/waves.ts'

describe('strategy grammar', () => {
  test('counts, percentages and selectors; defaults', () => {
    const r = parseStrategy({waves: ['1', '10%', 'canary=true'], maxUnavailable: '25%', failureThreshold: '2', waveTimeout: '5m', offline: 'skip', onFailure: 'rollback'})
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.strategy!.waves).toEqual([{kind: 'count', count: 1}, {kind: 'percent', percent: 10}, {kind: 'selector', selector: 'canary=true'}])
    expect(r.strategy!.waveTimeoutMs).toBe(300_000)
    expect(parseStrategy(undefined)).toEqual({ok: true, strategy: null})
  })

  test('every problem is listed with its field', () => {
    const r = parseStrategy({waves: ['0', '150%', 'a in (b'], failureThreshold: 'many', waveTimeout: 'soon', offline: 'later' as 'skip', onFailure: 'panic' as 'pause', manual: true, pauseBetween: '1m'})
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.problems.map(p => p.path)).toEqual([
      'strategy.waves[0]', 'strategy.waves[1]', 'strategy.waves[2]', 'strategy.failureThreshold', 'strategy.waveTimeout',
      'strategy.offline', 'strategy.onFailure', 'strategy.manual',
    ])
  })

  test('a percentage rounds up', () => {
    expect(amountOf({percent: 10}, 99)).toBe(10)
    expect(amountOf({percent: 10}, 5)).toBe(1)
    expect(amountOf({count: 3}, 5)).toBe(3)
  })
})

describe('wave assignment', () => {
  const devices = Array.from({length: 100}, (_, i) => ({clientId: `device-${i}`, labels: (i === 42 ? {canary: 'true'} : {}) as Record<string, string>}))

  test('1, 10%, rest: sizes, no device twice', () => {
    const waves = assignWaves(devices, [{kind: 'count', count: 1}, {kind: 'percent', percent: 10}])
    expect(waves.map(w => w.length)).toEqual([1, 10, 89])
    expect(new Set(waves.flat()).size).toBe(100)
  })

  test('stable: the same canaries whatever the order or the revision', () => {
    const a = assignWaves(devices, [{kind: 'count', count: 1}, {kind: 'percent', percent: 10}])
    const b = assignWaves([...devices].reverse(), [{kind: 'count', count: 1}, {kind: 'percent', percent: 10}])
    expect(a).toEqual(b)
    const first = [...devices].sort((x, y) => waveHash(x.clientId) - waveHash(y.clientId))[0]!.clientId
    expect(a[0]).toEqual([first])
  })

  test('selector waves claim their devices first', () => {
    const waves = assignWaves(devices, [{kind: 'count', count: 1}, {kind: 'selector', selector: 'canary=true'}])
    expect(waves[1]).toEqual(['device-42'])
    expect(waves[0]).not.toContain('device-42')
    expect(waves[2]!.length).toBe(98)
  })
})
