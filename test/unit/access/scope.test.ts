import {describe, expect, test} from 'bun:test'
import {implies, rolloutScopeProblem, selectorWithinScope} from '../../../src/server/access/scope.ts'
import {matchesSelector, parseSelector, type Selector} from '../../../src/operator-contract/selector.ts'

const sel = (text: string): Selector => {
  const p = parseSelector(text)
  if (!p.ok) throw new Error(p.error.message)
  return p.selector
}

describe('a selector inside a scope', () => {
  const inside: [string, string][] = [
    ['site=a', 'site=a'],
    ['site=a,line=1', 'site=a'],
    ['site in (a)', 'site=a'],
    ['site=a', 'site in (a,b)'],
    ['site in (a,b)', 'site in (a,b,c)'],
    ['site=a', 'site'],
    ['site=a', 'site!=b'],
    ['!site', 'site notin (b)'],
    ['site notin (b,c)', 'site notin (b)'],
    ['site in (a,c)', 'site notin (b)'],
    ['!site', '!site'],
  ]
  for (const [selector, scope] of inside) {
    test(`${selector} stays inside ${scope}`, () => expect(selectorWithinScope(sel(selector), sel(scope))).toEqual({ok: true}))
  }

  const outside: [string, string, string[]][] = [
    ['', 'site=a', ['site=a']],
    ['line=1', 'site=a', ['site=a']],
    ['site in (a,b)', 'site=a', ['site=a']],
    ['site', 'site=a', ['site=a']],
    ['site!=b', 'site=a', ['site=a']],
    ['site=a', 'site=a,tier=prod', ['tier=prod']],
    ['site notin (b)', 'site notin (b,c)', ['site notin (b,c)']],
    ['site=b', 'site!=b', ['site!=b']],
  ]
  for (const [selector, scope, missing] of outside) {
    test(`${JSON.stringify(selector)} could leave ${scope}`, () => expect(selectorWithinScope(sel(selector), sel(scope))).toEqual({ok: false, missing}))
  }

  test('implication is sound: whatever labels a device gets later, a selector inside the scope matches only devices in it', () => {
    const keys = ['site', 'line']
    const values = ['a', 'b', 'c']
    // Every label set over two keys and three values (or absent): 16 devices, now or after any relabelling.
    const labelSets: Record<string, string>[] = []
    for (const s of [undefined, ...values]) for (const l of [undefined, ...values]) {
      const labels: Record<string, string> = {}
      if (s) labels.site = s
      if (l) labels.line = l
      labelSets.push(labels)
    }
    const requirements = keys.flatMap(k => [k, `!${k}`, ...values.flatMap(v => [`${k}=${v}`, `${k}!=${v}`]), `${k} in (a,b)`, `${k} notin (a,b)`, `${k} in (c)`])
    for (const s of requirements) for (const c of requirements) {
      const rs = sel(s).requirements[0]!
      const rc = sel(c).requirements[0]!
      if (!implies(rs, rc)) continue
      for (const labels of labelSets) {
        if (matchesSelector(sel(s), labels)) expect({s, c, labels, matches: matchesSelector(sel(c), labels)}).toEqual({s, c, labels, matches: true})
      }
    }
  })

  test('a device list may name only devices inside the scope; the refusal names them', () => {
    const labels: Record<string, Record<string, string>> = {d1: {site: 'a'}, d2: {site: 'b'}}
    const problem = rolloutScopeProblem(sel('site=a'), 'site=a', {selector: null, devices: ['d1', 'd2', 'gone']}, id => labels[id] ?? null)
    expect(problem?.details).toEqual(['d2', 'gone'])
    expect(problem?.message).toContain('d2, gone')
    expect(rolloutScopeProblem(sel('site=a'), 'site=a', {selector: null, devices: ['d1']}, id => labels[id] ?? null)).toBeNull()
    expect(rolloutScopeProblem(null, '', {selector: '', devices: []}, () => null)).toBeNull()
  })
})
