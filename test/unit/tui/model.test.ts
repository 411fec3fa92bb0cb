import {describe, expect, test} from 'bun:test'
import {createDeployForm, rolloutRequest, fields, formKey, formRejected, type DeployForm} from '../../../src/tui/model/deploy-form.ts'
import {displayWidth, fit, layoutColumns, measureColumns, truncate} from '../../../src/tui/model/format.ts'
import {lineText} from '../../../src/tui/model/lines.ts'
import {deviceLiveness} from '../../../src/tui/model/liveness.ts'
import {filteredItems} from '../../../src/tui/model/panes.ts'
import {buildScreen} from '../../../src/tui/model/screen.ts'
import {type Action, eventNeedsRefresh, initialState, reduce, selectedItem, type TuiState} from '../../../src/tui/model/state.ts'
import type {KeyPress} from '../../../src/tui/model/keys.ts'
import {APP_ID, DEV_A, DEV_B, DEV_C, FakeApi, NOW, deployment, device, helloApp, minutesAgo} from './fixtures.tsx'

const key = (input: string, flags: Omit<KeyPress, 'input'> = {}): Action => ({type: 'key', key: {input, ...flags}})
const run = (state: TuiState, ...actions: Action[]) => actions.reduce(reduce, state)

function loaded(api = new FakeApi()): TuiState {
  return reduce(initialState(NOW), {type: 'data', data: {devices: api.devices, apps: api.apps, deployments: api.deployments}, at: NOW})
}

describe('liveness', () => {
  test('online below 15 minutes, stale up to an hour, offline after, never without a sighting', () => {
    expect(deviceLiveness({lastSeenAt: minutesAgo(14)}, NOW)).toMatchObject({state: 'online', label: 'online', tone: 'green'})
    expect(deviceLiveness({lastSeenAt: minutesAgo(20)}, NOW)).toMatchObject({state: 'stale', label: 'stale 20m', tone: 'yellow'})
    expect(deviceLiveness({lastSeenAt: minutesAgo(60)}, NOW)).toMatchObject({state: 'offline', label: 'offline', tone: 'red'})
    expect(deviceLiveness({lastSeenAt: null}, NOW)).toMatchObject({state: 'never', label: 'never seen'})
  })

  test('the server\'s own judgement wins over the computed one', () => {
    expect(deviceLiveness({lastSeenAt: minutesAgo(1), liveness: 'offline'}, NOW).state).toBe('offline')
    expect(deviceLiveness({lastSeenAt: minutesAgo(90), liveness: {state: 'online'}}, NOW).state).toBe('online')
  })
})

describe('text fitting', () => {
  test('truncate marks the cut and never exceeds the width, wide characters included', () => {
    expect(truncate('hello world', 8)).toBe('hello w…')
    expect(truncate('short', 8)).toBe('short')
    expect(displayWidth(truncate('日本語のアプリケーション', 9))).toBeLessThanOrEqual(9)
    expect(fit('ab', 4)).toBe('ab  ')
    expect(truncate('a\u001B[2Jb', 10)).toBe('a [2Jb')
  })

  test('the growing column takes the rest; fixed columns shrink from the right when space runs out', () => {
    expect(layoutColumns([{header: 'A', width: 5}, {header: 'B', width: 4, grow: true}, {header: 'C', width: 3}], 30)).toEqual([5, 20, 3])
    const tight = layoutColumns([{header: 'A', width: 10}, {header: 'B', width: 10, grow: true}, {header: 'C', width: 10}], 25)
    expect(tight.reduce((a, b) => a + b, 0) + 2).toBeLessThanOrEqual(25)
  })
})

describe('lists and filter', () => {
  test('every word must match somewhere in the row', () => {
    const api = new FakeApi()
    const rows = (f: string) => filteredItems('devices', api, f, NOW).map(r => r.id)
    expect(rows('')).toHaveLength(3)
    expect(rows('stale')).toEqual([DEV_B])
    expect(rows('PLANT-c offline')).toEqual([DEV_C])
    expect(rows('plant-3 offline')).toEqual([])
    expect(filteredItems('deployments', api, 'pull_failed', NOW).map(r => r.id)).toEqual(['d-2222'])
  })
})

describe('state machine', () => {
  test('keys that arrive together act on the state the previous key left (j then Enter opens the second device)', () => {
    const s = run(loaded(), key('j'), key('', {return: true}))
    expect(s.stack).toEqual([{kind: 'device', clientId: DEV_B}])
    expect(s.effects.at(-1)).toMatchObject({kind: 'load', view: {kind: 'device', clientId: DEV_B}})
  })

  test('the selection follows its row when a live update reorders the list', () => {
    const api = new FakeApi()
    let s = run(loaded(api), key('3'), key('j'))
    const chosen = selectedItem(s)!.id
    const reordered = [deployment('d-0000', DEV_C, 'installing', {createdAt: minutesAgo(1)}), ...api.deployments]
    s = reduce(s, {type: 'data', data: {devices: api.devices, apps: api.apps, deployments: reordered}, at: NOW})
    expect(selectedItem(s)!.id).toBe(chosen)
  })

  test('Tab cycles the panes, Shift+Tab goes back, digits jump, and a pane switch leaves the detail view', () => {
    let s = run(loaded(), key('', {tab: true}))
    expect(s.pane).toBe('apps')
    s = run(s, key('', {tab: true, shift: true}), key('', {tab: true, shift: true}))
    // Shift+Tab from the first pane wraps to the last one, the Rollouts.
    expect(s.pane).toBe('rollouts')
    s = run(s, key('1'), key('', {return: true}))
    expect(s.stack).toHaveLength(1)
    s = run(s, key('3'))
    expect([s.pane, s.stack.length]).toEqual(['deployments', 0])
  })

  test('the filter narrows while typing; Enter keeps it, Esc clears it', () => {
    let s = run(loaded(), key('/'), key('o'), key('f'), key('f'))
    expect(s.filtering).toBe(true)
    expect(s.filter.devices).toBe('off')
    s = run(s, key('', {return: true}))
    expect(s.filtering).toBe(false)
    expect(selectedItem(s)!.id).toBe(DEV_C)
    // q typed into the filter is text, not quit
    s = run(s, key('/'), key('q'))
    expect(s.effects.some(e => e.kind === 'quit')).toBe(false)
    s = run(s, key('', {escape: true}))
    expect(s.filter.devices).toBe('')
  })

  test('u asks before undeploying; n cancels, y undeploys', () => {
    let s = run(loaded(), key('3'), key('u'))
    expect(s.confirm?.question).toContain('Undeploy com-northstartida-hello-world')
    s = run(s, key('n'))
    expect(s.confirm).toBeUndefined()
    expect(s.effects.some(e => e.kind === 'undeploy')).toBe(false)
    s = run(s, key('u'), key('y'))
    expect(s.effects.at(-1)).toMatchObject({kind: 'undeploy'})
  })

  test('A approves the selected pending device, shows its fingerprint, and is offered only for pending devices', () => {
    const api = new FakeApi({devices: [device(DEV_A, null, {enrollment: 'pending'}), device(DEV_B, 1)]})
    let s = loaded(api)
    const footer = (t: TuiState) => buildScreen(t, {columns: 120, rows: 24}).lines.map(lineText).at(-1)!
    expect(selectedItem(s)?.id).toBe(DEV_A)
    expect(footer(s)).toContain('A approve')
    s = run(s, key('A'))
    expect(s.effects.at(-1)).toMatchObject({kind: 'approve', clientId: DEV_A})
    s = reduce(s, {type: 'approved', device: {...api.devices[0]!, enrollment: 'active'}})
    expect(s.message?.text).toContain(`certificate sha256:${'cd'.repeat(32)}`)
    expect(s.effects.at(-1)).toMatchObject({kind: 'refresh'})

    const active = run(loaded(api), key('j'))
    expect(selectedItem(active)?.id).toBe(DEV_B)
    expect(footer(active)).not.toContain('A approve')
    const refused = run(active, key('A'))
    expect(refused.effects.some(e => e.kind === 'approve')).toBe(false)
    expect(refused.message).toMatchObject({tone: 'error', text: expect.stringContaining('only a pending device can be approved')})
  })

  test('an answer for a view already left is dropped', () => {
    const api = new FakeApi()
    let s = run(loaded(api), key('', {return: true}), key('', {escape: true}))
    s = reduce(s, {type: 'detail', view: {kind: 'device', clientId: DEV_A}, details: {device: {...api.devices[0]!, deployments: []}}})
    expect(s.details.device).toBeUndefined()
  })
})

describe('deploy form', () => {
  const form = (): DeployForm => createDeployForm(helloApp(), [device(DEV_A, 1), device(DEV_B, 20)], {preselect: [DEV_A]})
  const press = (f: DeployForm, ...keys: KeyPress[]): DeployForm => keys.reduce((acc, k) => {
    const out = formKey(acc, k)
    if (!('form' in out)) throw new Error('form closed')
    return out.form
  }, f)
  const focusParam = (f: DeployForm, name: string) => ({...f, focus: fields(f).findIndex(x => x.kind === 'param' && x.name === name)})

  test('starts with the app\'s defaults, the looked-at device chosen and auto profile; profiles are those of the app', () => {
    const f = form()
    expect(f.params.map(p => [p.name, p.label, p.text])).toEqual([['greeting', 'Greeting', 'Hello'], ['siteId', 'Site', 'SID-1'], ['replicas', 'Replicas', '1']])
    expect(f.chosen).toEqual([DEV_A])
    expect(f.profiles).toEqual(['auto', 'compose', 'helm.v3'])
    expect(f.errors).toEqual({})
    // The same request as margo deploy APP --device DEV_A: defaults are not the operator's values.
    expect(rolloutRequest(f)).toEqual({appId: APP_ID, devices: [DEV_A]})
  })

  test('validates every key stroke against the schema: out of range, not a number, empty, too long', () => {
    let f = press(focusParam(form(), 'replicas'), {input: '', backspace: true}, {input: '9'})
    expect(f.errors.replicas?.[0]).toContain('must be at most 5')
    f = press(f, {input: '', backspace: true}, {input: 'x'})
    expect(f.errors.replicas?.[0]).toContain('must be an integer')
    f = press(f, {input: '', backspace: true}, {input: '3'})
    expect(f.errors.replicas).toBeUndefined()
    f = press(focusParam(f, 'greeting'), ...'Hello'.split('').map(() => ({input: '', backspace: true})))
    expect(f.errors.greeting?.[0]).toMatch(/empty|required|value/i)
    f = press(f, {input: 'x'.repeat(46)})
    expect(f.errors.greeting?.[0]).toContain('at most 45')
    expect(rolloutRequest(f)).toBeUndefined()
    const submitted = formKey(f, {input: '', return: true})
    expect('submit' in submitted).toBe(false)
    expect('form' in submitted && submitted.form.problem).toContain('fix the values')
  })

  test('Space toggles targets, ←/→ picks the profile; one rollout request carries the devices and typed values', () => {
    let f = {...form(), focus: 1}
    f = press(f, {input: ' '}, {input: '', downArrow: true}, {input: '', rightArrow: true}, {input: '', rightArrow: true})
    expect(f.chosen).toEqual([DEV_A, DEV_B])
    expect(f.profiles[f.profile]).toBe('helm.v3')
    f = press(focusParam(f, 'replicas'), {input: '', backspace: true}, {input: '4'})
    const out = formKey(f, {input: '', return: true})
    expect('submit' in out && out.submit).toEqual({appId: APP_ID, devices: [DEV_A, DEV_B], profile: 'helm.v3', values: {replicas: 4}})
  })

  test('an existing rollout: pre-filled with its values, target and profile; immutable settings read-only; submitting updates it', () => {
    const rollout = {name: 'hello', revision: 2, version: null, selector: null, devices: [DEV_B], profile: 'compose', values: {greeting: 'Servus', siteId: 'SID-7'}}
    let f = createDeployForm(helloApp(), [device(DEV_A, 1), device(DEV_B, 20)], {preselect: [DEV_A], rollout})
    expect(f.chosen).toEqual([DEV_B])
    expect(f.profiles[f.profile]).toBe('compose')
    expect(f.params.map(p => [p.name, p.text, p.readOnly ?? false])).toEqual([['greeting', 'Servus', false], ['siteId', 'SID-7', true], ['replicas', '1', false]])
    expect(fields(f).some(x => x.kind === 'param' && x.name === 'siteId')).toBe(false)
    // Untouched, the request equals the rollout's current revision.
    expect(rolloutRequest(f)).toEqual({name: 'hello', appId: APP_ID, devices: [DEV_B], profile: 'compose', values: {greeting: 'Servus', siteId: 'SID-7'}})
    f = press(focusParam(f, 'greeting'), ...'Servus'.split('').map(() => ({input: '', backspace: true})), {input: 'Hi'})
    expect(rolloutRequest(f)!.values).toEqual({greeting: 'Hi', siteId: 'SID-7'})
    // A selector rollout keeps its selector: no device choice, no devices sent.
    const live = createDeployForm(helloApp(), [device(DEV_A, 1)], {rollout: {...rollout, selector: 'site=a', devices: []}})
    expect(fields(live).some(x => x.kind === 'target')).toBe(false)
    expect(rolloutRequest(live)).not.toHaveProperty('devices')
  })

  test('no target chosen: refuses and moves to the targets', () => {
    const f = press({...form(), focus: 0}, {input: ' '})
    const out = formKey(f, {input: '', return: true})
    expect('submit' in out).toBe(false)
    expect('form' in out && out.form.problem).toContain('choose at least one target')
  })

  test('the server\'s field errors land next to their fields', () => {
    const f = formRejected({...form(), submitting: true}, 'invalid parameter values', [{path: 'values.siteId', message: 'is taken'}, {path: 'profile', message: 'no compose profile'}])
    expect(f.errors.siteId).toEqual(['is taken'])
    expect(f.problem).toContain('profile: no compose profile')
    expect(f.submitting).toBe(false)
  })
})

describe('screen', () => {
  const long = 'f'.repeat(40)
  const api = new FakeApi({
    devices: [device(DEV_A, 1, {labels: {site: 'a-very-long-site-name-that-goes-on-and-on', rack: 'r'.repeat(50)}}), device(long, null)],
    deployments: [deployment('d-1', DEV_A, 'installed', {appId: `com.example.${'x'.repeat(60)}`}), deployment('d-2', long, 'failed', {status: {state: 'failed', error: {code: 'e', message: 'boom '.repeat(40)}, components: [{name: 'c'.repeat(70), state: 'failed'}], reportedAt: minutesAgo(1)}})],
  })
  const views: [string, Action[]][] = [
    ['devices', []],
    ['device detail', [key('', {return: true})]],
    ['apps', [key('2')]],
    ['app detail', [key('2'), key('', {return: true})]],
    ['deployments', [key('3')]],
    ['deployment detail', [key('3'), key('j'), key('', {return: true})]],
    ['help', [key('?')]],
    ['filter', [key('/'), key('x')]],
  ]
  for (const [name, actions] of views) {
    test(`${name}: ${24 - 1} lines, none wider than 80 columns`, () => {
      const s = run(loaded(api), ...actions)
      const lines = buildScreen(s, {columns: 80, rows: 24}).lines.map(lineText)
      expect(lines).toHaveLength(23)
      for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(80)
    })
  }

  test('the deploy form fits too, with many devices', () => {
    const devices = Array.from({length: 30}, (_, i) => device(`${String(i).padStart(2, '0')}${DEV_A.slice(2)}`, i))
    let s = loaded(new FakeApi({devices}))
    s = {...s, form: createDeployForm(helloApp(), devices, {preselect: [devices[0]!.clientId]})}
    const lines = buildScreen(s, {columns: 80, rows: 24}).lines.map(lineText)
    expect(lines).toHaveLength(23)
    expect(lines.join('\n')).toContain('[ Deploy ]')
    for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(80)
  })
})

describe('stale devices stand out', () => {
  test('stale rows carry yellow, offline red, and the description of a device not online is dimmed', () => {
    const lines = buildScreen(loaded(), {columns: 80, rows: 24}).lines
    const segment = (label: string) => lines.flat().find(s => s.text.trim() === label)
    expect(segment('stale 20m')?.tone).toBe('yellow')
    expect(segment('offline')?.tone).toBe('red')
    expect(segment('online')?.tone).toBe('green')
    expect(lines.flat().find(s => s.text.includes('site=plant-c'))?.tone).toBe('dim')
  })
})

describe('which events refresh', () => {
  test('a sighting of an online device changes nothing shown; of a stale or unknown device it does; other events always do', () => {
    const s = loaded()
    expect(eventNeedsRefresh(s, {type: 'device.seen', data: {type: 'device.seen', clientId: DEV_A}})).toBe(false)
    expect(eventNeedsRefresh(s, {type: 'device.seen', data: {type: 'device.seen', clientId: DEV_B}})).toBe(true)
    expect(eventNeedsRefresh(s, {type: 'device.seen', data: {type: 'device.seen', clientId: 'new-device'}})).toBe(true)
    expect(eventNeedsRefresh(s, {type: 'deployment.status', data: {clientId: DEV_A}})).toBe(true)
  })
})

describe('footer', () => {
  const footer = (s: TuiState, columns: number) => lineText(buildScreen(s, {columns, rows: 24}).lines.at(-1)!)
  const views: [string, Action[]][] = [
    ['devices', []],
    ['apps', [key('2')]],
    ['deployments', [key('3')]],
    ['device detail', [key('', {return: true})]],
    ['deployment detail', [key('3'), key('', {return: true})]],
    ['app detail', [key('2'), key('', {return: true})]],
  ]
  for (const [name, actions] of views) {
    test(`${name}: q quit stays in the footer from 30 to 160 columns`, () => {
      const s = run(loaded(), ...actions)
      for (const columns of [30, 40, 60, 72, 80, 100, 160]) {
        const line = footer(s, columns)
        expect(line).toContain('q quit')
        expect(displayWidth(line)).toBeLessThanOrEqual(columns)
      }
    })
  }

  test('wide terminals show every hint; narrow ones drop the least important first', () => {
    const s = run(loaded(), key('3'))
    const wide = footer(s, 160)
    for (const hint of ['Tab pane', '↑↓ move', 'Enter open', '/ filter', 'u undeploy', 'r refresh', '? help', 'q quit']) expect(wide).toContain(hint)
    const narrow = footer(s, 60)
    expect(narrow).toContain('u undeploy')
    expect(narrow).toContain('? help')
    expect(narrow).not.toContain('Tab pane')
    expect(narrow).not.toContain('…')
  })

  test('where q means something else the footer names Ctrl+C for quitting', () => {
    const s = run(loaded(), key('3'), key('u'))
    const line = footer(s, 80)
    expect(line).toContain('y undeploy')
    expect(line).toContain('Ctrl+C quit')
    expect(line).not.toContain('q quit')
    expect(footer(run(loaded(), key('/')), 40)).toContain('Ctrl+C quit')
  })
})

describe('columns sized to their content', () => {
  test('a column is as wide as its widest cell or header; the widest flexible column gives first', () => {
    const cols = measureColumns([{header: 'APP', flex: true}, {header: 'VER'}], [['hello', '1.0'], ['a-much-longer-app', '10.2.1']])
    expect(cols.map(c => c.width)).toEqual([17, 6])
    expect(layoutColumns(cols, 80)).toEqual([17, 6])
    expect(layoutColumns(cols, 12)).toEqual([5, 6])
    // the flexible column stops at its header; then the others give from the right
    expect(layoutColumns(cols, 9)).toEqual([3, 5])
    const two = measureColumns([{header: 'A', flex: true}, {header: 'B', flex: true}, {header: 'C'}], [['x'.repeat(20), 'y'.repeat(10), 'z']])
    expect(layoutColumns(two, 21)).toEqual([9, 9, 1])
    expect(measureColumns([{header: 'A'}], [[]])[0]!.width).toBe(1)
  })

  const api = new FakeApi()
  const lines = (s: TuiState, columns: number) => buildScreen(s, {columns, rows: 24}).lines.map(lineText)

  test('wide terminal: columns follow the visible rows instead of fixed widths', () => {
    const [, header, first, second] = lines(run(loaded(api), key('3')), 160)
    expect(header).toMatch(new RegExp(`^ APP {${APP_ID.length - 2}}VER DEVICE {4}PROFILE STATE {16}DESIRED\\s*$`))
    expect(first).toContain(`${APP_ID} 1.0 3f0c2a9e… compose installed`)
    expect(second).toContain('failed (pull_failed) present')
  })

  test('80 columns: the error code in the state is not cut; a long app id is, with an ellipsis', () => {
    expect(lines(run(loaded(api), key('3')), 80).join('\n')).toContain('failed (pull_failed) present')
    const long = new FakeApi({deployments: [deployment('d-9', DEV_A, 'installed', {appId: `com.example.${'x'.repeat(60)}`}), ...api.deployments]})
    const [, header = '', ...body] = lines(run(loaded(long), key('3')), 80)
    expect(header).toMatch(/VER DEVICE +PROFILE STATE +DESIRED/)
    const row = body.find(l => l.includes('com.example.'))!
    expect(row).toMatch(/com\.example\.x+… 1\.0 3f0c2a9e… compose installed +present/)
    expect(body.join('\n')).toContain('failed (pull_failed) present')
    for (const l of [header, ...body]) expect(displayWidth(l)).toBeLessThanOrEqual(80)
  })

  test('the device view\'s deployments are sized the same way', () => {
    const s = run(loaded(api), key('j'), key('', {return: true}))
    const text = lines(s, 80).join('\n')
    expect(text).toMatch(/hello-world@1\.0 compose failed \(pull_failed\) present/)
  })
})

describe('removed deployments', () => {
  const base = new FakeApi()
  const api = new FakeApi({deployments: [
    ...base.deployments,
    deployment('d-3333', DEV_A, 'removed', {desired: 'absent', appId: 'com-example-gone', createdAt: minutesAgo(40)}),
    deployment('d-4444', DEV_A, null, {desired: 'absent', appId: 'com-example-never', createdAt: minutesAgo(41)}),
    deployment('d-5555', DEV_A, 'installed', {desired: 'absent', appId: 'com-example-leaving', createdAt: minutesAgo(42)}),
  ]})
  const ids = (s: TuiState) => filteredItems('deployments', s.data, '', NOW, {showRemoved: s.showRemoved}).map(i => i.id)
  const screen = (s: TuiState, columns = 120) => buildScreen(s, {columns, rows: 24}).lines

  test('are hidden by default (still being removed is not removed); a shows them dimmed, a again hides them', () => {
    let s = run(loaded(api), key('3'))
    expect(ids(s)).toEqual(['d-1111', 'd-2222', 'd-5555'])
    let text = screen(s).map(lineText).join('\n')
    expect(text).not.toContain('com-example-gone')
    expect(text).toContain('com-example-leaving')
    expect(text).toContain('3 Deployments 3')
    expect(text).toContain('2 removed deployments hidden')
    expect(lineText(screen(s).at(-1)!)).toContain('a show removed')
    s = run(s, key('a'))
    expect(ids(s)).toEqual(['d-1111', 'd-2222', 'd-3333', 'd-4444', 'd-5555'])
    const lines = screen(s)
    text = lines.map(lineText).join('\n')
    expect(text).toContain('3 Deployments 5')
    expect(lineText(lines.at(-1)!)).toContain('a hide removed')
    const gone = lines.find(l => lineText(l).includes('com-example-gone'))!
    expect(gone.filter(seg => seg.text.trim() !== '').every(seg => seg.tone === 'dim')).toBe(true)
    expect(lines.find(l => lineText(l).includes('com-example-leaving'))!.some(seg => seg.tone === 'green')).toBe(true)
    s = run(s, key('a'))
    expect(ids(s)).toEqual(['d-1111', 'd-2222', 'd-5555'])
  })

  test('a list with only removed deployments says so instead of "no deployments yet"', () => {
    const only = new FakeApi({deployments: [deployment('d-3333', DEV_A, 'removed', {desired: 'absent'})]})
    const s = reduce(run(loaded(only), key('3')), {type: 'actionFailed', message: 'some other message'})
    const text = screen(s).map(lineText).join('\n')
    expect(text).not.toContain('no deployments yet')
    expect(text).toContain('no deployments to show — 1 removed deployment hidden · a shows it')
  })

  test('the device and app views follow the same switch', () => {
    let s = run(loaded(api), key('', {return: true}))
    expect(screen(s).map(lineText).join('\n')).not.toContain('com-example-gone')
    expect(lineText(screen(s).at(-1)!)).toContain('a show removed')
    s = run(s, key('a'))
    expect(screen(s).map(lineText).join('\n')).toMatch(/com-example-gone@1\.0 +compose removed +absent/)
  })
})

describe('undeploy question', () => {
  const ID = '0a1b2c3d-9f8e-4d7c-8b6a-5f4e3d2c1b0a'
  const prompt = (s: TuiState, columns: number) => lineText(buildScreen(s, {columns, rows: 24}).lines.at(-2)!)

  test('names the deployment (short id), the app and the device', () => {
    const api = new FakeApi({deployments: [deployment(ID, DEV_B, 'installed')]})
    const s = run(loaded(api), key('3'), key('u'))
    expect(s.confirm?.question).toBe(`Undeploy ${APP_ID} from 7b1d4c2e… (deployment 0a1b2c3d…)? (y/n)`)
    expect(prompt(s, 120)).toBe(` ${s.confirm!.question}`)
    // 80 columns: a shorter label before any name is cut
    expect(prompt(s, 80)).toBe(` Undeploy ${APP_ID} from 7b1d4c2e… (id 0a1b2c3d…)? (y/n)`)
  })

  test('a long app id is cut to fit; the deployment, the device and y/n stay', () => {
    const api = new FakeApi({deployments: [deployment(ID, DEV_B, 'installed', {appId: `com.example.${'x'.repeat(60)}`})]})
    const s = run(loaded(api), key('3'), key('u'))
    for (const columns of [80, 60]) {
      const line = prompt(s, columns)
      expect(line).toMatch(/^ Undeploy com\.example\.x*… from 7b1d4c2e… \(id 0a1b2c3d…\)\? \(y\/n\)$/)
      expect(displayWidth(line)).toBeLessThanOrEqual(columns)
    }
  })

  test('from the device view too', () => {
    const s = run(loaded(), key('j'), key('', {return: true}), key('u'))
    expect(s.confirm?.question).toBe(`Undeploy ${APP_ID} from 7b1d4c2e… (deployment d-2222)? (y/n)`)
  })
})
