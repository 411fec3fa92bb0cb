import {afterAll, describe, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {HELLO_WORLD} from '../server/harness.ts'
import {BIN, cli, ensureBinary, eventually, startAgent, startServe} from './binary.ts'

/**
 * The compiled dashboard in a real 80×24 terminal (tmux), against a real `margo serve` and a
 * `margo agent` with the recording fake drivers: open the device, deploy the app to it from the
 * form, watch the deployment reach `installed` on screen, undeploy it and see it leave the list;
 * then a staged rollout shows in the Rollouts pane and its view lists its waves.
 */

function tmuxMissingReason(): string | undefined {
  const has = () => Bun.spawnSync(['sh', '-c', 'command -v tmux'], {stdout: 'pipe'}).exitCode === 0
  if (has()) return undefined
  if (process.getuid?.() !== 0) return 'tmux is not installed and installing it needs root'
  const install = () => Bun.spawnSync(['apt-get', 'install', '-y', '--no-install-recommends', 'tmux'], {stdout: 'pipe', stderr: 'pipe', env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'}})
  if (install().exitCode !== 0) {
    Bun.spawnSync(['apt-get', 'update'], {stdout: 'pipe', stderr: 'pipe'})
    const second = install()
    if (second.exitCode !== 0) return `tmux could not be installed with apt-get: ${second.stderr.toString().trim().split('\n').at(-1)}`
  }
  return has() ? undefined : 'tmux is still missing after apt-get install'
}

const missing = tmuxMissingReason()
if (missing) console.log(`TUI end-to-end test skipped: ${missing}`)

const work = mkdtempSync(join(tmpdir(), 'margo-tui-e2e-'))
// A private tmux server, so the test never touches the user's sessions.
const socket = `margo-tui-e2e-${process.pid}`
const tmux = (...args: string[]) => Bun.spawnSync(['tmux', '-L', socket, ...args], {stdout: 'pipe', stderr: 'pipe'})
const SESSION = 'tui'
const cleanup: (() => Promise<unknown> | unknown)[] = []
afterAll(async () => {
  for (const c of cleanup.reverse()) await c()
  if (!missing) tmux('kill-server')
  rmSync(work, {recursive: true, force: true})
})

const screen = () => tmux('capture-pane', '-p', '-t', SESSION).stdout.toString()
const sessionAlive = () => tmux('has-session', '-t', SESSION).exitCode === 0

/** One key per send-keys, with a pause: the terminal may otherwise deliver several keys in one read. */
async function key(name: string) {
  expect(tmux('send-keys', '-t', SESSION, name).exitCode).toBe(0)
  await Bun.sleep(250)
}

async function screenShows(pattern: RegExp, timeoutMs = 20000): Promise<string> {
  let last = ''
  try {
    return await eventually(`the screen to show ${pattern}`, () => {
      last = screen()
      return pattern.test(last) ? last : undefined
    }, timeoutMs)
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- screen ---\n${last}`)
  }
}

describe.skipIf(missing !== undefined)('margo tui (compiled, in tmux 80×24)', () => {
  test('open the device, deploy the app to it from the form, watch it reach installed, quit', async () => {
    ensureBinary()
    const packages = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: () => new Response('services:\n  web:\n    image: local/busybox:1\n    network_mode: none\n')})
    cleanup.push(() => packages.stop(true))
    const app = readFileSync(HELLO_WORLD, 'utf8').replace('https://northstarida.example/hello-world/compose.tar.gz', `http://127.0.0.1:${packages.port}/compose.yaml`)
    writeFileSync(join(work, 'margo.yaml'), app)

    const server = await startServe(['--enrollment', 'auto'])
    cleanup.push(() => server.stop())
    expect(cli(server.dataDir, 'app', 'publish', join(work, 'margo.yaml')).code).toBe(0)
    const agent = startAgent(server, join(work, 'agent'), {MARGO_FAKE_LOG: join(work, 'fake.log'), MARGO_FAKE_STATE: join(work, 'fake-state')})
    cleanup.push(() => agent.stop())
    const clientId = await eventually('the device to onboard and report capabilities', () => {
      const devices = cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string, capabilities: unknown}[]>()
      return devices[0]?.capabilities ? devices[0].clientId : undefined
    })
    const short = clientId.slice(0, 8)

    const started = tmux('new-session', '-d', '-s', SESSION, '-x', '80', '-y', '24', `${BIN} tui --data-dir ${server.dataDir}`)
    expect(started.exitCode).toBe(0)
    cleanup.push(() => tmux('kill-session', '-t', SESSION))

    // The devices pane lists the device, online.
    const devices = await screenShows(new RegExp(`${short}….*online`))
    expect(devices).toMatch(/1 Devices 1/)
    for (const line of devices.split('\n')) expect([...line].length).toBeLessThanOrEqual(80)

    // Open it.
    await key('Enter')
    const detail = await screenShows(new RegExp(`Device ${clientId}`))
    expect(detail).toMatch(/Enrollment\s+active/)
    expect(detail).toContain('Deployments 0')

    // Go to the apps, deploy the app; the device looked at is preselected.
    await key('2')
    await screenShows(/com-northstartida-hello-world\s+Hello World/)
    await key('d')
    const form = await screenShows(/Deploy Hello World/)
    expect(form).toContain(`[x] ${short}…`)
    expect(form).toMatch(/Greeting\s+Hello/)
    await key('Enter')
    await screenShows(/deployed com-northstartida-hello-world to 1 device/)

    // The deployments pane follows the deployment to installed, live or by polling.
    const installed = await screenShows(new RegExp(`com-northstartida-hello-world\\s+1\\.0\\s+${short}…\\s+compose\\s+installed`), 30000)
    for (const line of installed.split('\n')) expect([...line].length).toBeLessThanOrEqual(80)

    // Deploy again from the form: it edits the rollout — says update, starts from the current
    // values, keeps the immutable setting read-only — and updates the same deployment in place.
    await key('2')
    await key('d')
    const edit = await screenShows(/Update rollout com-northstartida-hello-world/)
    expect(edit).toMatch(/Site\s+SID-1\s+immutable/)
    expect(edit).toContain('[ Update ]')
    expect(edit).toMatch(/Greeting\s+Hello▏/)
    await key('C-u')
    await key('H')
    await key('i')
    await key('Enter')
    await screenShows(/updated rollout com-northstartida-hello-world to revision 2 on 1 device/)
    const rollouts = cli(server.dataDir, 'rollout', 'list', '--json').json<{name: string, revision: number, deployments: number, values: Record<string, unknown>}[]>()
    expect(rollouts).toEqual([expect.objectContaining({name: 'com-northstartida-hello-world', revision: 2, deployments: 1, values: {greeting: 'Hi'}})])
    // Until the device reports the update, the list still shows the state it reported for
    // revision 1: wait for a report made after the change, then for the list to show it.
    await eventually('the device to report revision 2 installed', () => {
      const [d] = cli(server.dataDir, 'status', '--device', clientId, '--json').json<{deployments: {state: string, reportedAt: string | null, updatedAt: string}[]}>().deployments
      return d?.state === 'installed' && d.reportedAt !== null && d.reportedAt >= d.updatedAt ? true : undefined
    }, 30000)
    await key('R')
    await screenShows(new RegExp(`com-northstartida-hello-world\\s+1\\.0\\s+${short}…\\s+compose\\s+installed`), 30000)
    expect(screen().match(/com-northstartida-hello-world\s+1\.0/g)).toHaveLength(1)

    // Open the deployment: its timeline shows the way there.
    await key('Enter')
    const timeline = await screenShows(/Timeline \(newest first\)[\s\S]*installed[\s\S]*installing/)
    expect(timeline).toMatch(/hello-world-compose\s+installed/)

    // The footer keeps the way out at 80 columns and, after a resize, at 44 (refresh gives way).
    const footer = () => screen().trimEnd().split('\n').at(-1) ?? ''
    expect(footer()).toContain('q quit')
    expect(tmux('resize-window', '-t', SESSION, '-x', '44', '-y', '24').exitCode).toBe(0)
    await eventually('the footer to fit 44 columns', () => (footer().includes('q quit') && !footer().includes('r refresh') ? true : undefined), 5000)
    for (const line of screen().split('\n')) expect([...line].length).toBeLessThanOrEqual(44)
    expect(tmux('resize-window', '-t', SESSION, '-x', '80', '-y', '24').exitCode).toBe(0)
    await eventually('the footer to widen again', () => (footer().includes('r refresh') ? true : undefined), 5000)

    // Undeploy: the question names app, device and deployment; once the device reports it removed,
    // the list hides it until a shows it.
    const deploymentId = /Deployment (\S+)/.exec(screen())![1]!
    await key('u')
    await screenShows(new RegExp(`Undeploy com-northstartida-hello-world from ${short}… \\((deployment|id) ${deploymentId.slice(0, 8)}…\\)\\? \\(y/n\\)`))
    await key('y')
    await key('Escape')
    await screenShows(/1 removed deployment hidden/, 30000)
    expect(screen()).not.toMatch(/com-northstartida-hello-world\s+1\.0/)
    await key('a')
    await screenShows(new RegExp(`com-northstartida-hello-world\\s+1\\.0\\s+${short}…\\s+compose\\s+removed\\s+absent`))

    // A staged rollout shows in the Rollouts pane with its waves, and its view lists each wave.
    const staged = cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--name', 'canary', '--device', clientId, '--wave', '1', '--manual')
    expect(staged.code).toBe(0)
    await key('4')
    const pane = await screenShows(/canary\s+com-northstartida-hello-\S*\s+1\s+[a-z-]+\s+\d\/2\s+\[[#x·-]+\]\s+\d\/\d/)
    for (const line of pane.split('\n')) expect([...line].length).toBeLessThanOrEqual(80)
    await key('Enter')
    const waves = await screenShows(/Rollout canary[\s\S]*Wave 1 \(1\)\s+\[[\s\S]*Wave 2 \(rest\)\s+\[/)
    expect(waves).toContain('Waves        1, rest · on failure pause · manual')
    for (const line of waves.split('\n')) expect([...line].length).toBeLessThanOrEqual(80)

    await key('q')
    await eventually('the tui to exit', () => (sessionAlive() ? undefined : true), 5000)
  }, 120_000)
})
