import {describe, expect, test} from 'bun:test'
import type {WhyReason} from '../../../src/operator-contract/strategy.ts'
import {displayWidth} from '../../../src/tui/model/format.ts'
import {lineText} from '../../../src/tui/model/lines.ts'
import {controlRefusal, rolloutPhase, rolloutRows, rolloutWaves, waveBar, whyText} from '../../../src/tui/model/rollouts.ts'
import {buildScreen} from '../../../src/tui/model/screen.ts'
import {type Action, initialState, reduce, type TuiState} from '../../../src/tui/model/state.ts'
import type {KeyPress} from '../../../src/tui/model/keys.ts'
import {loadRollouts} from '../../../src/tui/use-tui.ts'
import {NotFoundError} from '../../../src/util/errors.ts'
import {DEV_A, DEV_B, DEV_C, FakeApi, NOW, deployment, minutesAgo, stagedRollout} from './fixtures.tsx'

const key = (input: string, flags: Omit<KeyPress, 'input'> = {}): Action => ({type: 'key', key: {input, ...flags}})
const run = (state: TuiState, ...actions: Action[]) => actions.reduce(reduce, state)
const screen = (s: TuiState, columns = 80) => buildScreen(s, {columns, rows: 24}).lines.map(lineText)

/** Every device at once: DEV_A installed, DEV_B still installing. */
const plain = () => stagedRollout({name: 'hello', rolloutId: 'r-hello', strategy: undefined, progress: undefined, createdAt: minutesAgo(100),
  targets: [deployment('d-a', DEV_A, 'installed'), deployment('d-b', DEV_B, 'installing')]})

function loaded(rollouts = [stagedRollout(), plain()]): TuiState {
  const api = new FakeApi()
  return reduce(initialState(NOW), {type: 'data', data: {devices: api.devices, apps: api.apps, deployments: api.deployments, rollouts}, at: NOW})
}

describe('rollout model', () => {
  test('a staged rollout shows its run\'s phase and waves; an unstaged one is one wave of all its targets', () => {
    expect(rolloutPhase(stagedRollout())).toBe('paused')
    expect(rolloutPhase(plain())).toBe('running')
    expect(rolloutWaves(plain())).toEqual([{wave: 1, spec: 'all', size: 2, done: 1, failed: 0, excluded: 0, pending: 1, waiting: 0}])
    const done = plain()
    done.targets[1]!.status = {...done.targets[1]!.status!, state: 'installed'}
    expect(rolloutPhase(done)).toBe('completed')
    expect(rolloutPhase({...plain(), targets: []})).toBe('no devices')
  })

  test('the bar marks done, failed or excluded and the rest; one failure is never rounded away', () => {
    const w = {wave: 1, spec: 'rest', size: 40, done: 20, failed: 1, excluded: 0, pending: 3, waiting: 16}
    expect(waveBar(w)).toBe('[#####x----]')
    expect(waveBar({...w, size: 0, done: 0, failed: 0})).toBe('[··········]')
  })

  test('every reason has its words, times relative to now', () => {
    const cases: [WhyReason, string][] = [
      [{code: 'waiting_for_wave', wave: 3, currentWave: 2}, 'waiting for wave 3 (at wave 2)'],
      [{code: 'queued', wave: 2, maxUnavailable: 5}, 'queued in wave 2: 5 at a time'],
      [{code: 'outside_window', windows: ['night'], nextAt: new Date(NOW + 2 * 3600_000).toISOString()}, 'outside window night until in 2h'],
      [{code: 'paused', by: 'alice', reason: 'paused by alice'}, 'paused by alice: paused by alice'],
      [{code: 'aborted', by: 'alice'}, 'aborted by alice'],
      [{code: 'rolled_back', reason: '2 failed in wave 1'}, 'rolled back: 2 failed in wave 1'],
      [{code: 'skipped', rule: 'profile compose not supported'}, 'skipped (profile compose not supported)'],
      [{code: 'offline', since: minutesAgo(90)}, 'offline since 1h ago'],
      [{code: 'offline', since: null}, 'offline since never seen'],
      [{code: 'failed', errorCode: 'pull_failed', message: 'image not found'}, 'failed (pull_failed: image not found)'],
      [{code: 'applying', since: minutesAgo(4)}, 'applying since 4m ago'],
      [{code: 'unresolved_template', message: '${device.labels.site} is not set'}, 'template does not resolve: ${device.labels.site} is not set'],
    ]
    for (const [reason, words] of cases) expect(whyText(reason, NOW)).toBe(words)
  })

  test('the view lists each wave, its devices not converged with their reason, then the converged ones', () => {
    const rows = rolloutRows(stagedRollout())
    expect(rows.map(r => (r.kind === 'wave' ? `wave ${r.wave.wave}` : r.kind === 'converged' ? `converged ${r.count}` : `${r.clientId.slice(0, 4)} ${r.reason?.code ?? r.state}`))).toEqual([
      'wave 1', 'wave 2', '7b1d failed', 'wave 3', 'c9e8 waiting_for_wave', 'converged 1', '3f0c installed',
    ])
  })

  test('pause, resume and abort say why they do not apply before asking the server', () => {
    expect(controlRefusal(stagedRollout(), 'pause')).toContain('already paused')
    expect(controlRefusal(stagedRollout(), 'resume')).toBeUndefined()
    expect(controlRefusal(plain(), 'pause')).toContain('not staged')
    const done = stagedRollout()
    done.progress = {...done.progress!, phase: 'completed'}
    expect(controlRefusal(done, 'abort')).toBe('canary is completed: nothing to abort')
  })
})

describe('Rollouts pane', () => {
  test('4 opens it: name, app, revision, phase, wave, the wave\'s bar and counts, in 80 columns', () => {
    const lines = screen(run(loaded(), key('4')))
    expect(lines[0]).toMatch(/4 Rollouts 2/)
    expect(lines[1]).toMatch(/^ROLLOUT\s+APP\s+REV\s+PHASE\s+WAVE\s+PROGRESS\s+DONE\s+NOT YET/)
    expect(lines[2]).toMatch(/^canary\s+com-northstartida-hello-\S*…\s+2\s+paused\s+2\/3\s+\[x{10}\]\s+0\/1\s+1 failed/)
    expect(lines[3]).toMatch(/^hello\s+.*\s+running\s+all\s+\[#####-----\]\s+1\/2\s+1 applying/)
    expect(lines).toHaveLength(23)
    for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(80)
    expect(lines.at(-1)).toContain('q quit')
    expect(lines.at(-1)).toContain('p pause · r resume · x abort')
  })

  test('the title bar keeps the stream status in 80 columns with big counts, shortening a title', () => {
    const s = loaded()
    const many = {...s, stream: 'down' as const, data: {...s.data, devices: Array.from({length: 120}, () => s.data.devices[0]!), deployments: Array.from({length: 240}, () => s.data.deployments[0]!)}}
    const title = screen(many)[0]!
    expect(title).toContain('3 Deploys 240')
    expect(title).toContain('○ polling 5s')
    expect(displayWidth(title)).toBeLessThanOrEqual(80)
  })

  test('p pauses a running rollout, r resumes a paused one; neither refreshes, R does', () => {
    const running = stagedRollout()
    running.progress = {...running.progress!, phase: 'running', pause: null}
    let s = run(loaded([running]), key('4'), key('p'))
    expect(s.effects.at(-1)).toMatchObject({kind: 'control', name: 'canary', action: 'pause'})
    s = run(loaded(), key('4'), key('r'))
    expect(s.effects.at(-1)).toMatchObject({kind: 'control', name: 'canary', action: 'resume'})
    expect(s.effects.some(e => e.kind === 'refresh' && e.id > 1)).toBe(false)
    s = run(loaded(), key('4'), key('R'))
    expect(s.effects.at(-1)).toMatchObject({kind: 'refresh'})
    s = run(loaded(), key('4'), key('p'))
    expect(s.message).toEqual({text: 'canary is already paused — r resumes it', tone: 'error'})
    expect(s.effects.some(e => e.kind === 'control')).toBe(false)
  })

  test('x asks y/n naming the rollout; n keeps it running, y aborts', () => {
    let s = run(loaded(), key('4'), key('x'))
    expect(s.confirm?.question).toBe('Abort rollout canary? No further waves; devices keep what they have. (y/n)')
    const lines = screen(s)
    expect(lines.at(-2)).toBe(` ${s.confirm!.question}`)
    expect(lines.at(-1)).toContain('y abort · n cancel')
    expect(run(s, key('n')).confirm).toBeUndefined()
    expect(run(s, key('n')).effects.some(e => e.kind === 'control')).toBe(false)
    s = run(s, key('y'))
    expect(s.effects.at(-1)).toMatchObject({kind: 'control', name: 'canary', action: 'abort'})
    // A narrow terminal cuts the consequence before the name.
    const narrow = buildScreen(run(loaded(), key('4'), key('x')), {columns: 40, rows: 24}).lines.map(lineText)
    expect(narrow.at(-2)).toBe(' Abort rollout canary? (y/n)')
  })

  test('a control\'s answer says where the run is and refreshes the lists and the open view', () => {
    let s = run(loaded(), key('4'), key('', {return: true}))
    const before = s.nextEffect
    s = reduce(s, {type: 'controlled', name: 'canary', action: 'resume', progress: {...stagedRollout().progress!, phase: 'running'}})
    expect(s.message?.text).toBe('resumed canary: now running at wave 2/3')
    expect(s.effects.filter(e => e.id >= before).map(e => e.kind)).toEqual(['refresh', 'load'])
  })

  test('a refresh from a server that cannot list rollouts keeps those shown', () => {
    const s = loaded()
    const next = reduce(s, {type: 'data', data: {devices: s.data.devices, apps: s.data.apps, deployments: s.data.deployments}, at: NOW})
    expect(next.data.rollouts.map(r => r.name)).toEqual(['canary', 'hello'])
  })
})

describe('rollout view', () => {
  test('Enter drills in: phase with its cause, the strategy, each wave\'s bar and one reason per device not converged', () => {
    const s = run(loaded(), key('4'), key('', {return: true}))
    expect(s.stack).toEqual([{kind: 'rollout', name: 'canary'}])
    expect(s.effects.at(-1)).toMatchObject({kind: 'load', view: {kind: 'rollout', name: 'canary'}})
    const text = screen(s).join('\n')
    expect(text).toContain('Rollouts › rollout canary')
    expect(text).toContain('Phase        paused at wave 2/3: 1 of 1 failed in wave 2 (threshold 0)')
    expect(text).toContain('Waves        1, 50%, rest · on failure pause')
    expect(text).toContain('Limits       failure threshold 0 · offline wait · wave timeout 30m')
    expect(text).toMatch(/Wave 2 \(50%\)\s+\[x{10}\] 0\/1 {2}1 failed\n\s+7b1d4c2e… {2}failed \(pull_failed: image not found\)/)
    expect(text).toMatch(/Wave 3 \(rest\)\s+\[-{10}\] 0\/1 {2}1 waiting\n\s+c9e8d7f6… {2}waiting for wave 3 \(at wave 2\)/)
    expect(text).toMatch(/Converged 1\n\s+3f0c2a9e… {2}installed/)
  })

  test('↑/↓ move over the devices, Enter opens one; p r x act on the rollout shown', () => {
    let s = run(loaded(), key('4'), key('', {return: true}), key('j'))
    expect(s.rolloutSelected).toBe(DEV_C)
    s = run(s, key('', {return: true}))
    expect(s.stack.at(-1)).toEqual({kind: 'device', clientId: DEV_C})
    s = run(s, key('', {escape: true}), key('x'))
    expect(s.confirm).toMatchObject({kind: 'abort', name: 'canary'})
  })

  test('a hundred waiting devices scroll with the cursor; the head stays; every line fits 80×24', () => {
    const r = stagedRollout()
    const ids = Array.from({length: 100}, (_, i) => `${String(i).padStart(3, '0')}${DEV_C.slice(3)}`)
    r.progress!.notConverged.push(...ids.map(clientId => ({clientId, wave: 3, reason: {code: 'waiting_for_wave' as const, wave: 3, currentWave: 2}})))
    let s = run(loaded([r]), key('4'), key('', {return: true}))
    for (let i = 0; i < 60; i++) s = reduce(s, key('j'))
    const lines = screen(s)
    expect(lines).toHaveLength(23)
    for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(80)
    expect(lines.join('\n')).toContain('Phase        paused')
    expect(lines.join('\n')).toContain(`${s.rolloutSelected!.slice(0, 8)}…  waiting for wave 3`)
    expect(lines.at(-1)).toContain('q quit')
  })

  test('the device view gives the reason of each staged rollout that has not reached it', () => {
    const s = run(loaded(), key('1'), key('G'), key('', {return: true}))
    expect(s.stack.at(-1)).toEqual({kind: 'device', clientId: DEV_C})
    expect(screen(s).join('\n')).toContain('Rollout      canary (wave 3): waiting for wave 3 (at wave 2)')
    const a = run(loaded(), key('1'), key('', {return: true}))
    expect(screen(a).join('\n')).not.toContain('Rollout      canary')
  })
})

describe('loading rollouts', () => {
  test('lists the rollouts and fetches each one\'s detail; a rollout gone meanwhile is left out', async () => {
    const api = new FakeApi()
    api.rollouts = [stagedRollout(), plain()]
    const get = api.getRollout.bind(api)
    api.getRollout = async (name: string) => {
      if (name === 'hello') throw new NotFoundError('no rollout hello')
      return get(name)
    }
    const rollouts = await loadRollouts(api)
    expect(rollouts?.map(r => r.name)).toEqual(['canary'])
    expect(rollouts?.[0]?.progress?.phase).toBe('paused')
  })

  test('a server without rollouts gives undefined, so the other lists still load', async () => {
    const api = new FakeApi()
    api.listRollouts = async () => { throw new NotFoundError('no route') }
    expect(await loadRollouts(api)).toBeUndefined()
  })
})

describe('rollout footer', () => {
  for (const [name, actions] of [['pane', [key('4')]], ['view', [key('4'), key('', {return: true})]], ['abort question', [key('4'), key('x')]]] as [string, Action[]][]) {
    test(`${name}: q quit (or Ctrl+C) stays from 30 to 160 columns`, () => {
      const s = run(loaded(), ...actions)
      for (const columns of [30, 40, 60, 80, 160]) {
        const footer = screen(s, columns).at(-1)!
        expect(footer).toMatch(name === 'abort question' ? /Ctrl\+C quit/ : /q quit/)
        expect(displayWidth(footer)).toBeLessThanOrEqual(columns)
      }
    })
  }
})
