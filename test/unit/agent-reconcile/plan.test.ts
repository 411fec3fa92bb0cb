import {describe, expect, test} from 'bun:test'
import {planReconcile, type WorkloadView} from '../../../src/agent/reconcile/plan.ts'

const NOW = new Date('2026-11-23T12:00:00Z')
const A = 'aaaaaaaa-0000-4000-8000-000000000001'
const B = 'bbbbbbbb-0000-4000-8000-000000000002'
const d1 = `sha256:${'1'.repeat(64)}`
const d2 = `sha256:${'2'.repeat(64)}`

const w = (over: Partial<WorkloadView> & {deploymentId: string}): WorkloadView =>
  ({digest: d1, state: 'installed', intent: null, lastAction: 'apply', nextAttemptAt: null, hostChanged: true, ...over})

describe('reconcile plan', () => {
  test('CL-24: new ids are applied, absent ids removed, unchanged ones left alone', () => {
    const plan = planReconcile([{deploymentId: A, digest: d1}], [w({deploymentId: A}), w({deploymentId: B})], NOW)
    expect(plan).toEqual([{kind: 'remove', deploymentId: B, digest: d1, reason: 'absent'}])
    expect(planReconcile([{deploymentId: B, digest: d2}], [], NOW)).toEqual([{kind: 'apply', deploymentId: B, digest: d2, reason: 'new'}])
  })

  test('CL-24: a new digest for the same id is an update', () => {
    expect(planReconcile([{deploymentId: A, digest: d2}], [w({deploymentId: A})], NOW)).toEqual([{kind: 'apply', deploymentId: A, digest: d2, reason: 'update'}])
  })

  test('removals come before applies', () => {
    const plan = planReconcile([{deploymentId: A, digest: d1}], [w({deploymentId: B})], NOW)
    expect(plan.map(a => a.kind)).toEqual(['remove', 'apply'])
  })

  test('a crash mid-apply resumes the same apply; mid-remove resumes the removal', () => {
    expect(planReconcile([{deploymentId: A, digest: d2}], [w({deploymentId: A, state: 'installing', intent: {action: 'apply', digest: d2}})], NOW))
      .toEqual([{kind: 'apply', deploymentId: A, digest: d2, reason: 'resume'}])
    expect(planReconcile([], [w({deploymentId: A, state: 'removing', intent: {action: 'remove', digest: d1}})], NOW))
      .toEqual([{kind: 'remove', deploymentId: A, digest: d1, reason: 'resume'}])
  })

  test('a crash mid-removal of an id that is desired again applies it instead of removing it', () => {
    expect(planReconcile([{deploymentId: A, digest: d1}], [w({deploymentId: A, state: 'removing', intent: {action: 'remove', digest: d1}})], NOW))
      .toEqual([{kind: 'apply', deploymentId: A, digest: d1, reason: 'update'}])
  })

  test('failed applies are retried only once their back-off has passed', () => {
    const failed = w({deploymentId: A, state: 'failed', nextAttemptAt: '2026-11-23T12:05:00Z'})
    expect(planReconcile([{deploymentId: A, digest: d1}], [failed], NOW)).toEqual([])
    expect(planReconcile([{deploymentId: A, digest: d1}], [failed], new Date('2026-11-23T12:06:00Z'))).toEqual([{kind: 'apply', deploymentId: A, digest: d1, reason: 'retry'}])
  })

  test('a failed removal is retried after back-off; a removed workload is forgotten', () => {
    const failed = w({deploymentId: A, state: 'failed', lastAction: 'remove', nextAttemptAt: '2026-11-23T12:05:00Z'})
    expect(planReconcile([], [failed], NOW)).toEqual([])
    expect(planReconcile([], [failed], new Date('2026-11-23T13:00:00Z'))).toEqual([{kind: 'remove', deploymentId: A, digest: d1, reason: 'retry'}])
    expect(planReconcile([], [w({deploymentId: A, state: 'removed', lastAction: 'remove'})], NOW)).toEqual([{kind: 'forget', deploymentId: A}])
  })

  test('a workload whose install failed is removed when it leaves the desired state', () => {
    expect(planReconcile([], [w({deploymentId: A, state: 'failed', lastAction: 'apply'})], NOW)).toEqual([{kind: 'remove', deploymentId: A, digest: d1, reason: 'absent'}])
  })

  describe('a deployment whose tool never acted on the host', () => {
    const untouched = (over: Partial<WorkloadView> = {}) => w({deploymentId: A, state: 'failed', lastAction: 'apply', hostChanged: false, nextAttemptAt: '2026-11-23T12:05:00Z', ...over})

    test('is discarded when it leaves the desired state: nothing to undo, so no driver runs', () => {
      expect(planReconcile([], [untouched()], NOW)).toEqual([{kind: 'discard', deploymentId: A, digest: d1}])
    })

    test('is discarded even while an apply of it was in flight: the mark is written before the tool starts', () => {
      expect(planReconcile([], [untouched({state: 'installing', intent: {action: 'apply', digest: d2}})], NOW)).toEqual([{kind: 'discard', deploymentId: A, digest: d2}])
      expect(planReconcile([], [untouched({state: 'removing', intent: {action: 'remove', digest: d1}})], NOW)).toEqual([{kind: 'discard', deploymentId: A, digest: d1}])
    })

    test('a discard cut short is repeated; once removed it is forgotten', () => {
      expect(planReconcile([], [untouched({state: 'removing', intent: null})], NOW)).toEqual([{kind: 'discard', deploymentId: A, digest: d1}])
      expect(planReconcile([], [untouched({state: 'removed', intent: null})], NOW)).toEqual([{kind: 'forget', deploymentId: A}])
    })

    test('a tool that may have started is always undone, also after a crash mid-apply', () => {
      expect(planReconcile([], [untouched({hostChanged: true})], NOW)).toEqual([{kind: 'remove', deploymentId: A, digest: d1, reason: 'absent'}])
      expect(planReconcile([], [untouched({hostChanged: true, state: 'installing', intent: {action: 'apply', digest: d2}})], NOW)).toEqual([{kind: 'remove', deploymentId: A, digest: d2, reason: 'absent'}])
    })

    test('is still retried while it stays desired', () => {
      expect(planReconcile([{deploymentId: A, digest: d1}], [untouched()], new Date('2026-11-23T12:06:00Z'))).toEqual([{kind: 'apply', deploymentId: A, digest: d1, reason: 'retry'}])
    })
  })
})
