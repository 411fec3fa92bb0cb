import {afterEach, describe, expect, test} from 'bun:test'
import {displayWidth} from '../../../src/tui/model/format.ts'
import {APP_ID, DEV_A, DEV_B, FakeApi, FakeEvents, KEY, deployment, minutesAgo, start, stripAnsi, waitFor} from './fixtures.tsx'

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

describe('margo tui', () => {
  test('lists devices with their liveness: online, stale with its age, offline', async () => {
    const t = await tui()
    const lines = t.frame().split('\n')
    expect(lines.find(l => l.includes('3f0c2a9e'))).toContain('online')
    expect(lines.find(l => l.includes('7b1d4c2e'))).toContain('stale 20m')
    expect(lines.find(l => l.includes('c9e8d7f6'))).toContain('offline')
    assertFits(t.rawFrame())
  })

  test('moves with j/k and arrows, opens a device with Enter and goes back with Esc and Backspace', async () => {
    const t = await tui()
    await t.press('j', 'j', 'k', KEY.down, KEY.up, KEY.enter)
    const detail = await t.until('Device 7b1d4c2e-0000-4c1e-9a51-0d1e2f3a4b5d')
    expect(detail).toContain('stale 20m')
    expect(detail).toContain('site=plant-7')
    expect(detail).toContain('cpu 4 arm64 · memory 8Gi')
    expect(detail).toMatch(/Deployments 1\s*\n.*hello-world@1\.0\s+compose\s+failed \(pull_/)
    expect(detail).toContain('reported failed (pull_failed)')
    expect(t.api.calls).toContain(`getDevice ${DEV_B}`)
    assertFits(t.rawFrame())
    await t.press(KEY.esc)
    await t.until(/DEVICE\s+ENROLLED/)
    await t.press(KEY.enter)
    await t.until('Device 7b1d4c2e')
    await t.press(KEY.backspace)
    await t.until(/DEVICE\s+ENROLLED/)
  })

  test('drills from a device into its deployment: components, last error and timeline', async () => {
    const api = new FakeApi()
    api.timelines.set('d-2222', [
      {at: minutesAgo(10), state: 'pending', error: null, components: []},
      {at: minutesAgo(8), state: 'installing', error: null, components: []},
      {at: minutesAgo(3), state: 'failed', error: {code: 'pull_failed', message: 'image not found'}, components: []},
    ])
    const t = await tui(api)
    await t.press('j', KEY.enter)
    await t.until('Device 7b1d4c2e')
    await t.press(KEY.enter)
    const frame = await t.until('Deployment d-2222')
    expect(frame).toContain('pull_failed: image not found')
    expect(frame).toMatch(/Timeline \(newest first\)\s*\n\s*3m ago\s+failed[^\n]*\n\s*8m ago\s+installing\s*\n\s*10m ago\s+pending/)
    expect(frame).toContain('Devices › device 7b1d4c2e… › deployment d-2222')
    await t.press(KEY.esc)
    await t.until(/Devices › device 7b1d4c2e…\s*\n/)
  })

  test('Tab and 1-2-3 switch panes', async () => {
    const t = await tui()
    await t.press(KEY.tab)
    await t.until(/APP\s+NAME\s+LATEST/)
    expect(t.frame()).toContain('com-northstartida-hello-world')
    await t.press('3')
    const deployments = await t.until(/APP\s+VER\s+DEVICE\s+PROFILE\s+STATE/)
    expect(deployments).toMatch(/com-northstartida-hello-world\s+1\.0\s+3f0c2a9e…\s+compose\s+installed/)
    await t.press('1')
    await t.until(/DEVICE\s+ENROLLED/)
  })

  test('/ filters the current list as you type; Esc clears it', async () => {
    const t = await tui()
    await t.press('/', 's', 't', 'a', 'l')
    let frame = await t.until('/stal')
    expect(frame).toContain('7b1d4c2e')
    expect(frame).not.toContain('3f0c2a9e')
    expect(frame).not.toContain('c9e8d7f6')
    await t.press('e', 'x')
    await t.until('no devices match "stalex"')
    await t.press(KEY.backspace, KEY.enter)
    frame = await t.until('filter "stale": 1 shown')
    await t.press(KEY.enter)
    await t.until('Device 7b1d4c2e')
    await t.press(KEY.esc, KEY.esc)
    frame = await t.until('c9e8d7f6')
    expect(frame).toContain('3f0c2a9e')
  })

  test('d on an app opens the form; values are checked as typed; Enter deploys to the chosen device', async () => {
    const t = await tui()
    // look at device A first: the form preselects it
    await t.press('2', 'd')
    let frame = await t.until('Deploy Hello World')
    expect(frame).toMatch(/\[x\] 3f0c2a9e/)
    expect(frame).toMatch(/\[ \] 7b1d4c2e/)
    expect(frame).toMatch(/Greeting\s+Hello▏/)
    // replicas out of range
    await t.press(KEY.down, KEY.down, KEY.backspace, '9')
    frame = await t.until('✗ Replicas (integer): must be at most 5')
    assertFits(t.rawFrame())
    await t.press(KEY.enter)
    await t.until('fix the values marked in red first')
    expect(t.api.deploys).toEqual([])
    await t.press(KEY.backspace, '2', KEY.enter)
    await t.until(/deployed com-northstartida-hello-world to 1 device/)
    expect(t.api.deploys).toEqual([{appId: APP_ID, devices: [DEV_A], values: {replicas: 2}}])
    // back on the deployments list, the new deployment selected (once the list has reloaded)
    const row = /hello-world\s+1\.0\s+3f0c2a9e…\s+compose\s+unreported/
    await waitFor('the new deployment on the first row', () => row.test(t.frame().split('\n')[2] ?? ''))
    expect(t.frame()).toMatch(/APP\s+VER\s+DEVICE\s+PROFILE\s+STATE/)
    expect(t.frame().split('\n')[2]).toMatch(row)
  })

  test('the server\'s 422 is shown next to the field and the form stays open', async () => {
    const api = new FakeApi()
    api.reject = {message: 'invalid parameter values', details: [{path: 'values.siteId', message: 'is already used by another device'}]}
    const t = await tui(api)
    await t.press('2', 'd')
    await t.until('Deploy Hello World')
    await t.press(KEY.enter)
    const frame = await t.until('✗ is already used by another device')
    expect(frame).toContain('invalid parameter values')
    expect(frame).toContain('[ Deploy ]')
    await t.press(KEY.esc)
    await t.until(/APP\s+NAME\s+LATEST/)
  })

  test('u asks for confirmation; n keeps the deployment, y undeploys it', async () => {
    const t = await tui()
    await t.press('3', 'u')
    await t.until('Undeploy com-northstartida-hello-world from')
    await t.press('n')
    await waitFor('the question to go', () => !t.frame().includes('(y/n)'))
    expect(t.api.calls.filter(c => c.startsWith('deleteDeployment'))).toEqual([])
    await t.press('u', 'y')
    await t.until('undeploying com-northstartida-hello-world')
    expect(t.api.calls.filter(c => c.startsWith('deleteDeployment'))).toHaveLength(1)
    await t.until(/hello-world\s+1\.0\s+3f0c2a9e.*installed\s+absent/)
  })

  test('an event from the stream refreshes the lists and the open view', async () => {
    const api = new FakeApi()
    const events = new FakeEvents('live')
    const t = await tui(api, events)
    await t.press('3')
    await t.until(/APP\s+VER\s+DEVICE/)
    api.deployments.push(deployment('d-3333', DEV_B, 'installing', {appId: 'com-example-new', createdAt: minutesAgo(0)}))
    events.emit({type: 'deployment.changed'})
    await t.until(/com-example-new\s+1\.0.*installing/)
    expect(t.frame()).toContain('3 Deployments 3')
    await t.press(KEY.enter)
    await t.until('Deployment d-3333')
    api.deployments.find(d => d.deploymentId === 'd-3333')!.status = {state: 'installed', error: null, components: [], reportedAt: minutesAgo(0)}
    events.emit({type: 'deployment.status'})
    await t.until(/State\s+installed/)
  })

  test('without a working stream the dashboard polls and says so', async () => {
    const api = new FakeApi()
    const t = await tui(api, new FakeEvents('down'), {pollMs: 40})
    expect(t.frame()).toContain('○ polling 5s')
    api.devices[0]!.lastSeenAt = minutesAgo(45)
    await t.until(/3f0c2a9e….*stale 45m/)
  })

  test('? shows the keys; q quits', async () => {
    let exited = false
    const t = await tui(undefined, undefined, {onQuit: () => { exited = true }})
    await t.press('?')
    const help = await t.until('Keys')
    expect(help).toContain('undeploy the selected deployment')
    assertFits(t.rawFrame())
    await t.press(KEY.esc)
    await t.until(/DEVICE\s+ENROLLED/)
    // q inside help closes the help, it does not quit
    await t.press('?', 'q')
    await t.until(/DEVICE\s+ENROLLED/)
    expect(exited).toBe(false)
    await t.press('q')
    await waitFor('exit', () => exited)
  })

  test('the footer keeps q quit in the lists and the detail views, at 80 columns and at 56', async () => {
    for (const size of [{columns: 80, rows: 24}, {columns: 56, rows: 24}]) {
      const t = await tui(undefined, undefined, {size})
      const footer = () => t.frame().split('\n').at(-1)!
      expect(footer()).toContain('q quit')
      await t.press(KEY.enter)
      await t.until('Device 3f0c2a9e')
      expect(footer()).toContain('q quit')
      expect(footer()).toContain('u undeploy')
      await t.press('3', KEY.enter)
      await t.until('Deployment d-')
      expect(footer()).toContain('q quit')
      for (const l of t.frame().split('\n')) expect(displayWidth(l)).toBeLessThanOrEqual(size.columns)
      t.ui.unmount()
    }
  })

  test('removed deployments stay out of the list until a shows them', async () => {
    const api = new FakeApi()
    api.deployments.push(deployment('d-3333', DEV_B, 'removed', {desired: 'absent', appId: 'com-example-gone'}))
    const t = await tui(api)
    await t.press('3')
    await t.until('1 removed deployment hidden')
    expect(t.frame()).not.toContain('com-example-gone')
    await t.press('a')
    await t.until(/com-example-gone\s+1\.0\s+7b1d4c2e…\s+compose\s+removed\s+absent/)
    await t.press('a')
    await waitFor('the removed row to go', () => !t.frame().includes('com-example-gone'))
  })
})
