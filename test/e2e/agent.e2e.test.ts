import {afterAll, expect, test} from 'bun:test'
import {copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseExposition} from '../exposition.ts'
import {HELLO_WORLD} from '../server/harness.ts'
import {BIN, cli, ensureBinary, eventually, openServerDatabase, startAgent, startServe, type AgentProcess, type ServeProcess} from './binary.ts'

const work = mkdtempSync(join(tmpdir(), 'margo-agent-e2e-'))
const fakeLog = join(work, 'fake.log')
const delayFile = join(work, 'delay')
const fakeEnv = {MARGO_FAKE_LOG: fakeLog, MARGO_FAKE_STATE: join(work, 'fake-state'), MARGO_FAKE_DELAY_FILE: delayFile}
const running: {stop(): Promise<number>}[] = []
afterAll(async () => {
  for (const p of running) await p.stop().catch(() => 0)
  rmSync(work, {recursive: true, force: true})
})

interface DeploymentView {deploymentId: string, digest: string, status: {state: string} | null, timeline: {state: string, at: string}[]}

async function api<T>(server: ServeProcess, method: string, path: string, body?: unknown): Promise<T> {
  const token = readFileSync(join(server.dataDir, 'operator-token'), 'utf8').trim()
  const res = await fetch(`${server.url}/operator/v1${path}`, {
    method, tls: {ca: server.ca},
    headers: {authorization: `Bearer ${token}`, ...(body ? {'content-type': 'application/json'} : {})},
    body: body ? JSON.stringify(body) : undefined,
  })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

/** `margo agent status --json`: what the agent itself recorded. */
const agentStatus = <T>(stateDir: string) => JSON.parse(Bun.spawnSync([join(import.meta.dir, '../../dist/margo'), 'agent', 'status', '--state-dir', stateDir, '--json']).stdout.toString()) as T

const fakeCalls = () => readFileSync(fakeLog, 'utf8').trim().split('\n').map(l => JSON.parse(l) as {tool: string, argv: string[]})
const helmUpgrades = () => fakeCalls().filter(c => c.tool === 'helm' && c.argv[0] === 'upgrade')
const composeCalls = (verb: string) => fakeCalls().filter(c => c.tool === 'docker' && c.argv.includes(verb))

test('CL-01: margo serve + margo agent: deploy, update, undeploy, outage, crash, tampering and replay', async () => {
  // A package server for the compose profile, on loopback.
  const packages = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: () => new Response('services:\n  web:\n    image: local/busybox:1\n    network_mode: none\n')})
  running.push({stop: async () => { packages.stop(true); return 0 }})
  const app = readFileSync(HELLO_WORLD, 'utf8').replace('https://northstarida.example/hello-world/compose.tar.gz', `http://127.0.0.1:${packages.port}/compose.yaml`)
  writeFileSync(join(work, 'margo.yaml'), app)

  let server = await startServe(['--enrollment', 'auto'])
  running.push({stop: () => server.stop()})
  const port = server.port
  expect(cli(server.dataDir, 'app', 'publish', join(work, 'margo.yaml')).code).toBe(0)

  const stateDir = join(work, 'agent')
  let agent: AgentProcess = startAgent(server, stateDir, fakeEnv)
  running.push({stop: () => agent.stop()})
  const clientId = await eventually('the device to onboard', () => {
    const devices = cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string, capabilities: unknown}[]>()
    return devices[0]?.capabilities ? devices[0].clientId : undefined
  })

  // Deploy a compose app (the device's default profile) and a helm app (forced).
  const compose = cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--device', clientId, '--json').json<{deploymentId: string}>()
  // A device runs one rollout of an app, so the helm deployment of the same app is a direct one.
  const helm = await api<{deploymentId: string}>(server, 'POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId, profile: 'helm.v3', values: {greeting: 'Servus'}})
  // Installed, as reported after `since` (an update re-reports installed once applied).
  const installed = (id: string, since = '') => eventually(`${id} installed`, async () => {
    const d = await api<DeploymentView>(server, 'GET', `/deployments/${id}`)
    const last = d.timeline.at(-1)
    return last?.state === 'installed' && last.at > since ? d : undefined
  })
  const stamp = () => new Date().toISOString()
  await installed(compose.deploymentId)
  await installed(helm.deploymentId)
  const upgrade = helmUpgrades().at(-1)!.argv
  expect(upgrade.slice(0, 5)).toEqual(['upgrade', '--install', 'hello-world', 'oci://northstarida.azurecr.io/charts/hello-world', '--version'])
  expect(upgrade).toContain('--create-namespace')
  expect(upgrade).toContain('--wait')
  expect(composeCalls('up').length).toBe(1)
  expect((await api<DeploymentView>(server, 'GET', `/deployments/${compose.deploymentId}`)).timeline.map(e => e.state)).toEqual(['pending', 'installing', 'installed'])

  // Update a parameter: same deploymentId, new digest, the driver runs again.
  const before = await api<DeploymentView>(server, 'GET', `/deployments/${compose.deploymentId}`)
  const patchedAt = stamp()
  const patched = await api<DeploymentView>(server, 'PATCH', `/deployments/${compose.deploymentId}`, {values: {greeting: 'Moin'}})
  expect(patched.deploymentId).toBe(compose.deploymentId)
  expect(patched.digest).not.toBe(before.digest)
  await installed(compose.deploymentId, patchedAt)
  expect(composeCalls('up').length).toBe(2)

  // Undeploy: the device reports removing, then removed.
  expect(cli(server.dataDir, 'undeploy', compose.deploymentId).code).toBe(0)
  await eventually('compose deployment removed', async () => {
    const d = await api<DeploymentView>(server, 'GET', `/deployments/${compose.deploymentId}`)
    return d.timeline.slice(-2).map(e => e.state).join() === 'removing,removed' ? d : undefined
  })
  expect(composeCalls('down').length).toBe(1)

  // A snapshot of the server's database, to replay an older desired state later.
  const snapshot = join(work, 'snapshot.db')
  const db = openServerDatabase(server.dataDir)
  db.exec(`VACUUM INTO '${snapshot}'`)
  db.close()

  // Outage: the server stops while a slow helm upgrade runs; the agent keeps going and reports afterwards.
  writeFileSync(delayFile, '2')
  const offlineUpdate = await api<DeploymentView>(server, 'PATCH', `/deployments/${helm.deploymentId}`, {values: {greeting: 'Offline'}})
  await agent.waitForLog(new RegExp(`"deploy.installing".*${offlineUpdate.digest}`))
  await server.stop()
  await agent.waitForLog(new RegExp(`"deploy.installed".*${offlineUpdate.digest}`))
  await agent.waitForLog(/"wfm.unreachable"/)
  expect(agent.proc.exitCode).toBeNull()
  const restartedAt = stamp()
  server = await startServe(['--enrollment', 'auto'], server.dataDir, `127.0.0.1:${port}`)
  // The report made while the server was down arrives after the restart.
  await installed(helm.deploymentId, restartedAt)

  // SIGKILL in the middle of an apply: the restarted agent resumes and converges.
  const crashAt = stamp()
  const crashUpdate = await api<DeploymentView>(server, 'PATCH', `/deployments/${helm.deploymentId}`, {values: {greeting: 'Crash'}})
  await agent.waitForLog(new RegExp(`"deploy.installing".*${crashUpdate.digest}`))
  agent.proc.kill('SIGKILL')
  await agent.proc.exited
  rmSync(delayFile)
  agent = startAgent(server, stateDir, fakeEnv)
  await agent.waitForLog(/"deploy.installing".*"reason":"resume"/)
  await installed(helm.deploymentId, crashAt)
  const status = agentStatus<{manifestVersion: number, deployments: {deploymentId: string, state: string}[]}>(stateDir)
  expect(status.deployments).toEqual([expect.objectContaining({deploymentId: helm.deploymentId, state: 'installed'})])
  const adoptedVersion = status.manifestVersion

  // A tampered artifact (digest mismatch) is refused and the running workload is untouched.
  expect(await agent.stop()).toBe(0) // SIGTERM: a clean stop between steps
  expect(agent.log()).toContain('"agent.stopped"')
  const tamperedAt = stamp()
  const tampered = await api<DeploymentView>(server, 'PATCH', `/deployments/${helm.deploymentId}`, {values: {greeting: 'Tampered'}})
  const store = openServerDatabase(server.dataDir)
  const bundleDigest = (store.query('SELECT bundle_digest FROM manifests WHERE client_id = ? ORDER BY manifest_version DESC LIMIT 1').get(clientId) as {bundle_digest: string}).bundle_digest
  const originals = [tampered.digest, bundleDigest].map(digest => ({digest, bytes: (store.query('SELECT bytes FROM artifacts WHERE digest = ?').get(digest) as {bytes: Uint8Array}).bytes}))
  const setBytes = store.query('UPDATE artifacts SET bytes = ? WHERE digest = ?')
  for (const o of originals) setBytes.run(Buffer.concat([o.bytes, Buffer.from('\n')]), o.digest)
  const upgradesBefore = helmUpgrades().length
  agent = startAgent(server, stateDir, fakeEnv)
  await agent.waitForLog(/"sync.fetch_failed"/)
  expect(helmUpgrades().length).toBe(upgradesBefore)
  expect(fakeCalls().some(c => c.tool === 'helm' && c.argv[0] === 'uninstall')).toBe(false)
  let seen = agentStatus<{manifestVersion: number, deployments: {state: string}[]}>(stateDir)
  expect(seen.manifestVersion).toBe(adoptedVersion)
  // Once the server serves the right bytes again, the update goes through.
  for (const o of originals) setBytes.run(o.bytes, o.digest)
  store.close()
  await installed(helm.deploymentId, tamperedAt)

  // A replayed, lower manifestVersion (the server's database restored from an old snapshot) is refused.
  await server.stop()
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(server.dataDir, `margo.db${suffix}`), {force: true})
  copyFileSync(snapshot, join(server.dataDir, 'margo.db'))
  server = await startServe(['--enrollment', 'auto'], server.dataDir, `127.0.0.1:${port}`)
  await agent.waitForLog(/"sync.rejected_rollback".*"securityEvent":true/, 30000)
  seen = agentStatus<{manifestVersion: number, deployments: {state: string}[]}>(stateDir)
  expect(seen.manifestVersion).toBeGreaterThan(adoptedVersion)
  expect(seen.deployments.map(d => d.state)).toEqual(['installed'])
  expect(fakeCalls().some(c => c.tool === 'helm' && c.argv[0] === 'uninstall')).toBe(false)
}, 120000)

test('margo agent --once: exit 5 when the WFM is unreachable, 4 when it refuses the device, 1 when a deployment failed', async () => {
  const closed = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: () => new Response()})
  const closedUrl = `https://127.0.0.1:${closed.port}`
  closed.stop(true)
  const configFile = join(work, 'once.config.yaml')
  writeFileSync(configFile, '{}\n')
  ensureBinary()
  const once = (server: string, stateDir: string, ...args: string[]) => {
    const r = Bun.spawnSync([BIN, 'agent', '--once', '--config', configFile, '--server', server, '--state-dir', stateDir, '--log-format', 'json', ...args], {stdout: 'pipe', stderr: 'pipe', env: {...process.env, ...fakeEnv}})
    const stderr = r.stderr.toString()
    return {code: r.exitCode, error: stderr.split('\n').filter(l => l.startsWith('error:'))}
  }

  const unreachable = once(closedUrl, join(work, 'once-unreachable'), '--insecure-tofu')
  expect(unreachable.code).toBe(5)
  expect(unreachable.error).toHaveLength(1)

  const approving = await startServe(['--enrollment', 'approve'])
  running.push({stop: () => approving.stop()})
  const pending = once(approving.url, join(work, 'once-pending'), '--ca-file', join(approving.dataDir, 'tls/ca.pem'))
  expect(pending.code).toBe(4)
  expect(pending.error[0]).toContain('operator')

  // Helm is missing on this device: the deployment fails; undeployed, it goes without helm.
  const server = await startServe(['--enrollment', 'auto'])
  running.push({stop: () => server.stop()})
  expect(cli(server.dataDir, 'app', 'publish', HELLO_WORLD).code).toBe(0)
  const stateDir = join(work, 'once-device')
  const noHelm = ['--ca-file', join(server.dataDir, 'tls/ca.pem'), '--helm', join(work, 'no-such-helm')]
  expect(once(server.url, stateDir, ...noHelm).code).toBe(0)
  const clientId = cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string}[]>()[0]!.clientId
  const {deploymentId} = cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--device', clientId, '--profile', 'helm.v3', '--json').json<{deploymentId: string}>()
  const failed = once(server.url, stateDir, ...noHelm)
  expect(failed.code).toBe(1)
  expect(failed.error[0]).toContain('HELM_NOT_FOUND')
  expect(cli(server.dataDir, 'undeploy', deploymentId).code).toBe(0)
  expect(once(server.url, stateDir, ...noHelm).code).toBe(0)
  const view = await api<DeploymentView>(server, 'GET', `/deployments/${deploymentId}`)
  expect(view.timeline.map(e => e.state).slice(-2)).toEqual(['removing', 'removed'])
}, 120000)

test('margo agent --metrics-listen 127.0.0.1:0: logs the bound address and answers Prometheus scrapes; a non-loopback address is refused', async () => {
  const server = await startServe(['--enrollment', 'auto'])
  running.push({stop: () => server.stop()})
  expect(cli(server.dataDir, 'app', 'publish', HELLO_WORLD).code).toBe(0)
  const agent = startAgent(server, join(work, 'metrics-device'), fakeEnv, ['--metrics-listen', '127.0.0.1:0', '--simulate-drivers'])
  running.push({stop: () => agent.stop()})
  await agent.waitForLog(/"metrics.listening"/)
  const url = /"metrics.listening".*?"url":"([^"]+)"/.exec(agent.log())![1]!
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*\/metrics$/)

  const clientId = await eventually('the device to onboard', () => cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string}[]>()[0]?.clientId)
  expect(cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--device', clientId, '--json').code).toBe(0)
  const scrape = async () => parseExposition(await (await fetch(url)).text())
  const sample = (s: Awaited<ReturnType<typeof scrape>>, name: string, labels: Record<string, string> = {}) =>
    s.samples.find(x => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value
  const seen = await eventually('an apply to be counted', async () => {
    const s = await scrape()
    return (sample(s, 'margo_agent_apply_duration_seconds_count', {driver: 'simulated', state: 'installed'}) ?? 0) >= 1 ? s : undefined
  })
  expect(sample(seen, 'margo_agent_sync_cycles_total', {outcome: 'accepted'})).toBeGreaterThanOrEqual(1)
  const lastSuccess = sample(seen, 'margo_agent_last_successful_sync_timestamp_seconds')!
  expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(60)
  expect(seen.types.get('margo_agent_outbox_reports')).toBe('gauge')
  expect(sample(seen, 'process_resident_memory_bytes')).toBeGreaterThan(1e6)
  expect(seen.samples.find(s => s.name === 'margo_build_info')?.labels.runtime).toMatch(/^bun-/)

  const refused = Bun.spawnSync([BIN, 'agent', '--server', server.url, '--metrics-listen', '0.0.0.0:9464', '--print-config'], {stdout: 'pipe', stderr: 'pipe'})
  expect(refused.exitCode).toBe(2)
  expect(refused.stderr.toString()).toContain('loopback only')
}, 60000)
