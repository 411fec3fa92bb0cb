import {describe, expect, test} from 'bun:test'
import {historyOf, REDACTED, redactValues, specChanges, undoTarget, valuesDigest, type RevisionRecord, type RolloutSpec} from '../../../src/server/rollouts/revisions.ts'
import {describeConflicts, ownershipConflicts, type DeviceLabels, type RolloutScope} from '../../../src/server/rollouts/ownership.ts'

const spec = (over: Partial<RolloutSpec> = {}): RolloutSpec => ({appVersion: null, selector: null, devices: ['a', 'b'], profile: null, values: {greeting: 'Hi'}, ...over})

describe('revision diffing', () => {
  test('an equal request changes nothing: device order and key order do not count', () => {
    expect(specChanges(spec(), spec({devices: ['b', 'a']}))).toEqual([])
    expect(specChanges(spec({values: {a: 1, b: {x: 1, y: 2}}}), spec({values: {b: {y: 2, x: 1}, a: 1}}))).toEqual([])
  })

  test('each changed field is named once', () => {
    expect(specChanges(spec(), spec({appVersion: '1.1', values: {greeting: 'Ho'}, devices: ['a']}))).toEqual(['version', 'values', 'target'])
    expect(specChanges(spec(), spec({selector: 'site=a', devices: []}))).toEqual(['target'])
    expect(specChanges(spec(), spec({profile: 'compose'}))).toEqual(['profile'])
    // A selector rollout's (empty) device list is not part of its target.
    expect(specChanges(spec({selector: ''}), spec({selector: '', devices: []}))).toEqual([])
  })
})

describe('history redaction', () => {
  test('secret-looking names are masked at any depth; others are shown', () => {
    expect(redactValues({greeting: 'Hi', dbPassword: 'x', nested: {apiToken: 't', list: [{privateKey: 'k'}], port: 80}, key: 'k', monkey: 'ok'}))
      .toEqual({greeting: 'Hi', dbPassword: REDACTED, nested: {apiToken: REDACTED, list: [{privateKey: REDACTED}], port: 80}, key: REDACTED, monkey: 'ok'})
  })

  test('the values digest tells equal values apart from different ones without showing them', () => {
    expect(valuesDigest({a: 1, b: 2})).toBe(valuesDigest({b: 2, a: 1}))
    expect(valuesDigest({password: 'one'})).not.toBe(valuesDigest({password: 'two'}))
    expect(valuesDigest({})).toMatch(/^sha256:[0-9a-f]{12}$/)
  })

  test('history lists revisions oldest first with what changed, values redacted', () => {
    const rev = (revision: number, over: Partial<RolloutSpec>, cause: string | null = null): RevisionRecord =>
      ({...spec(over), rolloutId: 'r', revision, actor: 'operator', cause, createdAt: `t${revision}`})
    const h = historyOf([rev(2, {values: {greeting: 'Ho', token: 's3cret'}}), rev(1, {}), rev(3, {}, 'undo to revision 1')])
    expect(h.map(e => [e.revision, e.changed, e.cause])).toEqual([[1, [], null], [2, ['values'], null], [3, ['values'], 'undo to revision 1']])
    expect(h[1]!.values).toEqual({greeting: 'Ho', token: REDACTED})
    expect(JSON.stringify(h)).not.toContain('s3cret')
    expect(h[0]!.target).toEqual({devices: ['a', 'b']})
    expect(h[0]!.valuesDigest).toBe(h[2]!.valuesDigest)
  })

  test('undo goes to the previous revision by default; the current or an unknown one is refused', () => {
    const revs = [{revision: 1}, {revision: 2}, {revision: 3}]
    expect(undoTarget(revs, 3)).toEqual({ok: true, revision: 2})
    expect(undoTarget(revs, 3, 1)).toEqual({ok: true, revision: 1})
    expect(undoTarget(revs, 3, 3)).toMatchObject({ok: false})
    expect(undoTarget(revs, 3, 7)).toMatchObject({ok: false, reason: expect.stringContaining('1, 2, 3')})
    expect(undoTarget([{revision: 1}], 1)).toMatchObject({ok: false})
  })
})

describe('ownership conflicts', () => {
  const scope = (over: Partial<RolloutScope>): RolloutScope => ({rolloutId: 'r', name: 'n', appId: 'app', selector: null, devices: [], ...over})
  const devices: DeviceLabels[] = [{clientId: 'd1', labels: {site: 'a'}}, {clientId: 'd2', labels: {site: 'b'}}, {clientId: 'd3', labels: {site: 'a', line: '1'}}]

  test('another rollout of the app that targets or runs on a device the new one would reach is a conflict', () => {
    const candidate = scope({rolloutId: 'new', name: 'new', selector: 'site=a'})
    const others = [
      scope({rolloutId: 'listed', name: 'listed', devices: ['d1']}),
      scope({rolloutId: 'lines', name: 'lines', selector: 'line=1'}),
      scope({rolloutId: 'running', name: 'running', selector: 'site=c'}),
      scope({rolloutId: 'other-app', name: 'x', appId: 'other', selector: ''}),
    ]
    const owned = new Map([['running', new Set(['d3'])]])
    expect(ownershipConflicts(candidate, others, devices, owned)).toEqual([
      {rolloutId: 'listed', name: 'listed', devices: ['d1']},
      {rolloutId: 'lines', name: 'lines', devices: ['d3']},
      {rolloutId: 'running', name: 'running', devices: ['d3']},
    ])
    expect(ownershipConflicts(scope({rolloutId: 'new', devices: ['d2']}), others.slice(0, 3), devices, owned)).toEqual([])
  })

  test('the message names the other rollout and the devices, and what to do', () => {
    const text = describeConflicts('app', 'canary', [{rolloutId: 'r', name: 'app', devices: ['d1']}])
    expect(text).toStartWith('rollout app already targets device d1 — a device runs one rollout of app, so rollout canary cannot reach it')
    expect(text).toContain('margo undeploy app')
  })
})
