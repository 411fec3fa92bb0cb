import {describe, expect, test} from 'bun:test'
import {planManifest} from '../../../src/server/desired-state/plan.ts'

const e = (n: number, digest = `sha256:${String(n).repeat(64).slice(0, 64)}`) => ({deploymentId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, digest})

describe('manifestVersion planning', () => {
  test('WFM-26: a client\'s first manifest is version 1, with or without deployments', () => {
    expect(planManifest(null, [])).toEqual({changed: true, manifestVersion: 1})
    expect(planManifest(null, [e(1)])).toEqual({changed: true, manifestVersion: 1})
  })

  test('§2.7: the same set of (deploymentId, digest) in any order is no change and keeps the version', () => {
    const previous = {manifestVersion: 41, entries: [e(1), e(2)]}
    expect(planManifest(previous, [e(2), e(1)])).toEqual({changed: false, manifestVersion: 41})
    expect(planManifest({manifestVersion: 5, entries: []}, [])).toEqual({changed: false, manifestVersion: 5})
  })

  test('WFM-27: an added, removed or re-digested deployment bumps the version by exactly one', () => {
    const previous = {manifestVersion: 41, entries: [e(1), e(2)]}
    expect(planManifest(previous, [e(1), e(2), e(3)])).toEqual({changed: true, manifestVersion: 42})
    expect(planManifest(previous, [e(1)])).toEqual({changed: true, manifestVersion: 42})
    expect(planManifest(previous, [e(1), e(2, `sha256:${'f'.repeat(64)}`)])).toEqual({changed: true, manifestVersion: 42})
    expect(planManifest(previous, [])).toEqual({changed: true, manifestVersion: 42})
  })

  test('WFM-27: removing everything still moves forward, and so does re-adding it', () => {
    const emptied = planManifest({manifestVersion: 3, entries: [e(1)]}, [])
    expect(emptied).toEqual({changed: true, manifestVersion: 4})
    expect(planManifest({manifestVersion: emptied.manifestVersion, entries: []}, [e(1)])).toEqual({changed: true, manifestVersion: 5})
  })

  test('A20: refuses to go past Number.MAX_SAFE_INTEGER', () => {
    expect(planManifest({manifestVersion: Number.MAX_SAFE_INTEGER - 1, entries: []}, [e(1)]).manifestVersion).toBe(Number.MAX_SAFE_INTEGER)
    expect(() => planManifest({manifestVersion: Number.MAX_SAFE_INTEGER, entries: []}, [e(1)])).toThrow()
    expect(planManifest({manifestVersion: Number.MAX_SAFE_INTEGER, entries: [e(1)]}, [e(1)])).toEqual({changed: false, manifestVersion: Number.MAX_SAFE_INTEGER})
  })

  test('refuses a next set listing a deployment twice', () => {
    expect(() => planManifest(null, [e(1), e(1, `sha256:${'a'.repeat(64)}`)])).toThrow()
  })
})
