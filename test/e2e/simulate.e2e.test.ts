import {afterAll, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {HELLO_WORLD} from '../server/harness.ts'
import {BIN, cli, eventually, startServe, type ServeProcess} from './binary.ts'

const work = mkdtempSync(join(tmpdir(), 'margo-simulate-e2e-'))
const running: {stop(): Promise<number>}[] = []
afterAll(async () => {
  for (const p of running) await p.stop().catch(() => 0)
  rmSync(work, {recursive: true, force: true})
})

const APP = 'com-northstartida-hello-world'

function simulate(server: ServeProcess, args: string[]) {
  const proc = Bun.spawn([BIN, 'simulate', '--server', server.url, '--ca-file', join(server.dataDir, 'tls/ca.pem'), '--data-dir', server.dataDir, '--json', ...args], {
    stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'},
  })
  const stdout = new Response(proc.stdout).text()
  const stderr = new Response(proc.stderr).text()
  const handle = {
    proc,
    async stop() {
      proc.kill('SIGTERM')
      return proc.exited
    },
    async result() {
      const code = await proc.exited
      return {code, stdout: await stdout, stderr: await stderr}
    },
  }
  running.push(handle)
  return handle
}

async function deployments(server: ServeProcess) {
  const token = readFileSync(join(server.dataDir, 'operator-token'), 'utf8').trim()
  const res = await fetch(`${server.url}/operator/v1/deployments?appId=${APP}`, {headers: {authorization: `Bearer ${token}`}, tls: {ca: server.ca}})
  return ((await res.json()) as {deployments: {clientId: string, desired: string, status: {state: string, error?: {code?: string}} | null}[]}).deployments
}

const devices = (server: ServeProcess) => cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string, labels: Record<string, string>, capabilities: unknown}[]>()

test('margo simulate: 200 devices onboard with spread labels, a deploy reaches all of them, and failures are reported per device', async () => {
  const server = await startServe(['--log-level', 'warn', '--enrollment', 'auto'])
  running.push(server)
  expect(cli(server.dataDir, 'app', 'publish', HELLO_WORLD).code).toBe(0)

  const fleet = simulate(server, ['--devices', '200', '--poll-interval', '1s', '--labels', 'fleet=sim', '--labels', 'site=plant-{1..4}', '--seed', '1'])
  const onboarded = await eventually('200 devices with capabilities and labels', () => {
    const list = devices(server)
    return list.length === 200 && list.every(d => d.capabilities && d.labels.fleet === 'sim') ? list : undefined
  }, 30_000)
  // four sites, round-robin: fifty devices each
  expect(onboarded.filter(d => d.labels.site === 'plant-3').length).toBe(50)

  const started = Date.now()
  const deploy = cli(server.dataDir, 'deploy', APP, '--selector', 'fleet=sim')
  expect(deploy.code).toBe(0)
  await eventually('all 200 devices to report installed', async () => {
    const all = await deployments(server)
    return all.length === 200 && all.every(d => d.status?.state === 'installed') ? true : undefined
  }, 30_000)
  expect(Date.now() - started).toBeLessThan(30_000)

  const report = await fleet.stop().then(() => fleet.result())
  expect(report.code).toBe(0)
  const summary = JSON.parse(report.stdout) as {devices: number, states: Record<string, number>, errors: number, polls: number}
  expect(summary.devices).toBe(200)
  expect(summary.states.installed).toBe(200)
  expect(summary.errors).toBe(0)
  expect(summary.polls).toBeGreaterThan(200)

  // Every apply fails: each device reports SIMULATED_FAILURE for its deployment. The same
  // identities come back in a second run from --state-dir.
  const stateDir = join(work, 'broken')
  const first = simulate(server, ['--devices', '5', '--poll-interval', '1s', '--labels', 'fleet=broken', '--state-dir', stateDir, '--duration', '3s'])
  expect((await first.result()).code).toBe(0)
  expect(devices(server).length).toBe(205)
  const broken = simulate(server, ['--devices', '5', '--poll-interval', '1s', '--labels', 'fleet=broken', '--state-dir', stateDir, '--fail-rate', '1'])
  const brokenIds = devices(server).filter(d => d.labels.fleet === 'broken').map(d => d.clientId)
  expect(brokenIds.length).toBe(5)
  expect(cli(server.dataDir, 'deploy', APP, '--selector', 'fleet=broken').code).toBe(0)
  await eventually('the five devices to report their failure', async () => {
    const failed = (await deployments(server)).filter(d => brokenIds.includes(d.clientId) && d.status?.state === 'failed')
    return failed.length === 5 && failed.every(d => d.status?.error?.code === 'SIMULATED_FAILURE') ? true : undefined
  }, 20_000)
  const status = cli(server.dataDir, 'status')
  for (const id of brokenIds) expect(status.stdout).toContain(id)
  expect(status.stdout).toContain('SIMULATED_FAILURE')
  const brokenReport = await broken.stop().then(() => broken.result())
  expect(brokenReport.code).toBe(0)
  const failures = (JSON.parse(brokenReport.stdout) as {failures: {clientId: string, code: string}[]}).failures
  expect(failures.map(f => f.clientId).sort()).toEqual([...brokenIds].sort())
  expect(devices(server).length).toBe(205)
}, 90_000)
