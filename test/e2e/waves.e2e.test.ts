import {afterAll, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {RolloutProgress} from '../../src/operator-contract/strategy.ts'
import {assignWaves} from '../../src/server/rollouts/strategy/waves.ts'
import {HELLO_WORLD} from '../server/harness.ts'
import {BIN, cli, eventually, startServe, type ServeProcess} from './binary.ts'

const work = mkdtempSync(join(tmpdir(), 'margo-waves-e2e-'))
const running: {stop(): Promise<number>}[] = []
afterAll(async () => {
  for (const p of running) await p.stop().catch(() => 0)
  rmSync(work, {recursive: true, force: true})
})

const APP = 'com-northstartida-hello-world'

function simulate(server: ServeProcess, args: string[]) {
  const proc = Bun.spawn([BIN, 'simulate', '--server', server.url, '--ca-file', join(server.dataDir, 'tls/ca.pem'), '--data-dir', server.dataDir, '--json', '--poll-interval', '1s', ...args], {
    stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', env: {...process.env, NO_COLOR: '1'},
  })
  const handle = {proc, async stop() { proc.kill('SIGTERM'); return proc.exited }}
  running.push(handle)
  return handle
}

interface Dep {clientId: string, createdAt: string, updatedAt: string, values: Record<string, unknown>, status: {state: string, reportedAt: string} | null}
async function deployments(server: ServeProcess): Promise<Dep[]> {
  const token = readFileSync(join(server.dataDir, 'operator-token'), 'utf8').trim()
  const res = await fetch(`${server.url}/operator/v1/deployments?appId=${APP}`, {headers: {authorization: `Bearer ${token}`}, tls: {ca: server.ca}})
  return ((await res.json()) as {deployments: Dep[]}).deployments
}
const devices = (server: ServeProcess) => cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string, labels: Record<string, string>, capabilities: unknown}[]>()
const progress = (server: ServeProcess, name: string) => cli(server.dataDir, 'rollout', 'show', name, '--json').json<{progress: RolloutProgress}>().progress
const phase = (server: ServeProcess, name: string, want: string) => eventually(`rollout ${name} to be ${want}`, () => {
  const p = progress(server, name)
  return p.phase === want ? p : undefined
}, 30_000)

test('100 simulated devices in waves 1, 10%, rest: each wave starts only after the previous one reported installed', async () => {
  const server = await startServe(['--log-level', 'warn', '--enrollment', 'auto'])
  running.push(server)
  expect(cli(server.dataDir, 'app', 'publish', HELLO_WORLD).code).toBe(0)
  simulate(server, ['--devices', '100', '--labels', 'fleet=sim', '--seed', '3'])
  const fleet = await eventually('100 devices with labels', () => {
    const list = devices(server)
    return list.length === 100 && list.every(d => d.capabilities && d.labels.fleet === 'sim') ? list : undefined
  }, 30_000)

  const deploy = cli(server.dataDir, 'deploy', APP, '--selector', 'fleet=sim', '--wave', '1', '--wave', '10%', '--json')
  expect(deploy.code).toBe(0)
  const first = progress(server, APP)
  expect(first.waves.map(w => w.size)).toEqual([1, 10, 89])
  // The canary may already be done by now: whatever wave runs, every later device waits for its wave.
  const later = first.waves.filter(w => w.wave > first.wave).reduce((n, w) => n + w.size, 0)
  const waiting = first.notConverged.filter(d => d.reason.code === 'waiting_for_wave')
  expect(waiting.length).toBe(later)
  expect(waiting.every(d => d.wave > first.wave)).toBe(true)
  await phase(server, APP, 'completed')

  // Ordering, from the server's records: a device of wave k+1 got its deployment (its manifest
  // changed) only after every device of wave k had reported installed.
  const all = await deployments(server)
  expect(all.length).toBe(100)
  const byId = new Map(all.map(d => [d.clientId, d]))
  const waves = assignWaves(fleet, [{kind: 'count', count: 1}, {kind: 'percent', percent: 10}])
  for (let k = 0; k + 1 < waves.length; k++) {
    const healthyAt = Math.max(...waves[k]!.map(id => Date.parse(byId.get(id)!.status!.reportedAt)))
    const nextStarted = Math.min(...waves[k + 1]!.map(id => Date.parse(byId.get(id)!.createdAt)))
    expect(nextStarted).toBeGreaterThanOrEqual(healthyAt)
  }
  expect(all.every(d => d.status?.state === 'installed')).toBe(true)
}, 90_000)

test('failures pause the rollout in their wave; resume, rollback to the previous revision, abort; the offline rule with its timeout', async () => {
  const server = await startServe(['--log-level', 'warn', '--enrollment', 'auto', '--offline-after', '3s'])
  running.push(server)
  expect(cli(server.dataDir, 'app', 'publish', HELLO_WORLD).code).toBe(0)
  simulate(server, ['--devices', '12', '--labels', 'fleet=r', '--labels', 'ring={canary,main,main}'])
  simulate(server, ['--devices', '3', '--labels', 'fleet=r', '--labels', 'ring=late', '--fail-rate', '1'])
  await eventually('15 devices', () => (devices(server).filter(d => d.capabilities && d.labels.ring).length === 15 ? true : undefined), 30_000)

  const strategy = join(work, 'rings.yaml')
  writeFileSync(strategy, 'waves: [ring=canary, ring=main]\nfailureThreshold: 0\nwaveTimeout: 20s\n')
  expect(cli(server.dataDir, 'deploy', APP, '--selector', 'fleet=r', '--strategy-file', strategy, '--set', 'greeting=v1').code).toBe(0)
  const paused = await phase(server, APP, 'paused')
  expect(paused.wave).toBe(3)
  expect(paused.pause?.code).toBe('threshold')
  expect(paused.notConverged.filter(d => d.reason.code === 'failed').length).toBeGreaterThan(0)
  const status = cli(server.dataDir, 'status', APP, '--json').json<{rollouts: {name: string, phase: string}[]}>()
  expect(status.rollouts[0]).toMatchObject({name: APP, phase: 'paused'})

  // Resuming accepts the failures so far (a later one would pause again): wait until all three failed.
  await eventually('the last wave to fail on all three', () => (progress(server, APP).waves[2]!.failed === 3 ? true : undefined), 20_000)
  expect(cli(server.dataDir, 'rollout', 'resume', APP).code).toBe(0)
  await phase(server, APP, 'completed')

  // Revision 2 fails in the last wave again; rollback gives every moved device revision 1's values back.
  expect(cli(server.dataDir, 'deploy', APP, '--selector', 'fleet=r', '--strategy-file', strategy, '--set', 'greeting=v2', '--on-failure', 'rollback').code).toBe(0)
  await eventually('canaries on v2', async () => ((await deployments(server)).some(d => d.values.greeting === 'v2') ? true : undefined), 20_000)
  await phase(server, APP, 'rolled-back')
  expect((await deployments(server)).every(d => d.values.greeting === 'v1')).toBe(true)

  // --manual waits after the canaries; abort ends it there and the others keep what they have.
  expect(cli(server.dataDir, 'deploy', APP, '--selector', 'fleet=r', '--wave', 'ring=canary', '--set', 'greeting=v3', '--manual').code).toBe(0)
  await phase(server, APP, 'waiting')
  expect(cli(server.dataDir, 'rollout', 'abort', APP).code).toBe(0)
  await Bun.sleep(1500)
  const after = await deployments(server)
  expect(after.filter(d => d.values.greeting === 'v3').length).toBe(4)
  expect(progress(server, APP).phase).toBe('aborted')
  expect(cli(server.dataDir, 'rollout', 'resume', APP).code).not.toBe(0)

  // Offline devices: wait up to the wave timeout, then the rollout goes on without them.
  const gone = simulate(server, ['--devices', '2', '--labels', 'fleet=gone'])
  await eventually('2 devices that will go dark', () => (devices(server).filter(d => d.capabilities && d.labels.fleet === 'gone').length === 2 ? true : undefined), 20_000)
  await gone.stop()
  await Bun.sleep(6000)
  expect(cli(server.dataDir, 'deploy', APP, '--name', 'gone', '--selector', 'fleet=gone', '--wave', '1', '--offline', 'wait', '--wave-timeout', '3s').code).toBe(0)
  const waiting = progress(server, 'gone')
  expect(waiting.notConverged.map(d => d.reason.code)).toContain('offline')
  const done = await phase(server, 'gone', 'completed')
  expect(done.notConverged.every(d => d.reason.code === 'skipped')).toBe(true)

  // Bad input is refused before anything is created, every problem listed, exit 2.
  const bad = cli(server.dataDir, 'deploy', APP, '--name', 'bad', '--selector', 'fleet=r', '--wave', '0', '--failure-threshold', 'lots', '--set', 'greeting=${device.nope}')
  expect(bad.code).toBe(2)
  expect(bad.stderr).toContain('strategy.waves[0]')
  expect(bad.stderr).toContain('strategy.failureThreshold')
  expect(bad.stderr).toContain('values.greeting')
  const window = cli(server.dataDir, 'window', 'add', 'night', '--selector', 'site=x', '--schedule', '0 25 * *', '--duration', '2h', '--timezone', 'Mars/Base')
  expect(window.code).toBe(2)
  expect(window.stderr).toContain('schedule')
  expect(window.stderr).toContain('timeZone')
}, 150_000)
