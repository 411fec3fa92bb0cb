import {afterEach, describe, expect, test} from 'bun:test'
import {displayWidth} from '../../../src/tui/model/format.ts'
import {DEV_C, FakeApi, FakeEvents, KEY, start, stagedRollout, stripAnsi} from './fixtures.tsx'

const open: {ui: {unmount(): void}}[] = []
async function tui(...args: Parameters<typeof start>) {
  const t = await start(...args)
  open.push(t)
  return t
}
afterEach(() => { for (const t of open.splice(0)) t.ui.unmount() })

function assertFits(frame: string) {
  const lines = stripAnsi(frame).split('\n')
  expect(lines.length).toBeLessThanOrEqual(24)
  for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(80)
}

function withCanary(): FakeApi {
  const api = new FakeApi()
  api.rollouts = [stagedRollout()]
  return api
}

describe('margo tui: rollouts', () => {
  test('4 shows the staged rollout with its phase and the bar of its wave; Enter shows every wave with the reasons', async () => {
    const t = await tui(withCanary())
    await t.press('4')
    const pane = await t.until(/canary\s+com-northstartida-\S+\s+2\s+paused\s+2\/3\s+\[x+\]\s+0\/1\s+1 failed/)
    expect(pane).toMatch(/4 Rollouts 1/)
    expect(pane).toContain('p pause · r resume · x abort')
    expect(pane).toContain('q quit')
    assertFits(t.rawFrame())
    await t.press(KEY.enter)
    const view = await t.until('Rollout canary')
    expect(view).toMatch(/Wave 1 \(1\)\s+\[#+\] 1\/1/)
    expect(view).toMatch(/7b1d4c2e… {2}failed \(pull_failed: image not found\)/)
    expect(view).toMatch(/c9e8d7f6… {2}waiting for wave 3 \(at wave 2\)/)
    expect(t.api.calls).toContain('getRollout canary')
    assertFits(t.rawFrame())
  })

  test('r resumes, p pauses again, x aborts after y; the server\'s word is shown and the pane follows', async () => {
    const t = await tui(withCanary())
    await t.press('4')
    await t.until(/canary.*paused/)
    await t.press('r')
    await t.until('resumed canary: now running at wave 2/3')
    await t.until(/canary\s+\S+\s+2\s+running/)
    await t.press('p')
    await t.until('paused canary: now paused at wave 2/3')
    await t.press('x')
    await t.until('Abort rollout canary? No further waves; devices keep what they have. (y/n)')
    assertFits(t.rawFrame())
    await t.press('n')
    await t.until(/canary\s+\S+\s+2\s+paused/)
    expect(t.api.calls.filter(c => c.startsWith('controlRollout'))).toEqual(['controlRollout canary resume', 'controlRollout canary pause'])
    await t.press('x', 'y')
    await t.until(/canary\s+\S+\s+2\s+aborted/)
    expect(t.api.calls).toContain('controlRollout canary abort')
  })

  test('a refusal from the server is shown in red on the message line', async () => {
    const api = withCanary()
    api.refuseControl = 'cannot resume canary: the rollout is completed'
    const t = await tui(api)
    await t.press('4', 'r')
    await t.until('cannot resume canary: the rollout is completed')
  })

  test('rollout.progress events move the bars live', async () => {
    const api = withCanary()
    const events = new FakeEvents()
    const t = await tui(api, events)
    await t.press('4', KEY.enter)
    await t.until(/c9e8d7f6… {2}waiting for wave 3/)
    const r = api.rollouts[0]!
    r.progress = {
      ...r.progress!, phase: 'running', wave: 3, pause: null,
      waves: r.progress!.waves.map(w => (w.wave === 3 ? {...w, waiting: 0, pending: 1} : w)),
      notConverged: [r.progress!.notConverged[0]!, {clientId: DEV_C, wave: 3, reason: {code: 'applying', since: new Date(Date.parse(r.createdAt) + 35 * 60_000).toISOString()}}],
    }
    events.emit({type: 'rollout.progress', data: {name: 'canary', change: 'resumed', wave: 3}})
    const frame = await t.until(/c9e8d7f6… {2}applying since 5m ago/)
    expect(frame).toContain('running (wave 3/3)')
    expect(frame).toMatch(/Wave 3 \(rest\)\s+\[-+\] 0\/1 {2}1 applying/)
  })

  test('the device drill-down gives the reason its staged rollout has not reached it', async () => {
    const t = await tui(withCanary())
    await t.press('G', KEY.enter)
    const frame = await t.until('Device c9e8d7f6')
    expect(frame).toContain('Rollout      canary (wave 3): waiting for wave 3 (at wave 2)')
    assertFits(t.rawFrame())
  })
})
