import {afterAll, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {HELLO_WORLD} from '../server/harness.ts'
import {BIN, cli, eventually, startAgent, startServe} from './binary.ts'

const work = mkdtempSync(join(tmpdir(), 'margo-fleet-e2e-'))
const fakeEnv = {MARGO_FAKE_LOG: join(work, 'fake.log'), MARGO_FAKE_STATE: join(work, 'fake-state'), MARGO_FAKE_DELAY_FILE: join(work, 'delay')}
const running: {stop(): Promise<number>}[] = []
afterAll(async () => {
  for (const p of running) await p.stop().catch(() => 0)
  rmSync(work, {recursive: true, force: true})
})

test('margo deploy --selector --wait: exits 0 once the labelled device reports installed', async () => {
  // The compose profile's package, served on loopback.
  const packages = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: () => new Response('services:\n  web:\n    image: local/busybox:1\n    network_mode: none\n')})
  running.push({stop: async () => { packages.stop(true); return 0 }})
  writeFileSync(join(work, 'margo.yaml'), readFileSync(HELLO_WORLD, 'utf8').replace('https://northstarida.example/hello-world/compose.tar.gz', `http://127.0.0.1:${packages.port}/compose.yaml`))

  const server = await startServe(['--enrollment', 'auto'])
  running.push(server)
  expect(cli(server.dataDir, 'app', 'publish', join(work, 'margo.yaml')).code).toBe(0)
  const agent = startAgent(server, join(work, 'agent'), fakeEnv)
  running.push(agent)
  const clientId = await eventually('the device to onboard and report capabilities', () => {
    const devices = cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string, capabilities: unknown}[]>()
    return devices[0]?.capabilities ? devices[0].clientId : undefined
  })

  const labelled = cli(server.dataDir, 'device', 'label', clientId, 'site=a', 'line=1')
  expect(labelled.stderr).toBe('')
  expect(labelled.stdout).toBe(`${clientId}\tline=1,site=a\n`)

  // A dry run first: the YAML the device would get, and nothing created.
  const dry = cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--selector', 'site=a', '--dry-run', '--json')
  expect(dry.code).toBe(0)
  const preview = dry.json<{rolloutId: string | null, targets: {clientId: string, action: string, yaml: string}[]}>()
  expect(preview.rolloutId).toBeNull()
  expect(preview.targets).toEqual([expect.objectContaining({clientId, action: 'create', yaml: expect.stringContaining('kind: ApplicationDeployment')})])

  const started = Date.now()
  const proc = Bun.spawn([BIN, 'deploy', 'com-northstartida-hello-world', '--selector', 'site=a', '--wait', '--timeout', '60s', '--data-dir', server.dataDir], {
    stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'},
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  expect(stderr).toBe('')
  expect(code).toBe(0)
  const lines = stdout.trimEnd().split('\n')
  expect(lines[0]).toMatch(/^rollout\t[0-9a-f-]{36}\tcom-northstartida-hello-world\t1\tcreated$/)
  expect(lines[1]).toMatch(new RegExp(`^target\t${clientId}\t[0-9a-f-]{36}\tcreate\t1\\.0\tcompose\tsha256:`))
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${clientId}\t[0-9a-f-]{36}\tinstalled$`)))
  expect(lines.at(-1)).toBe('installed\t1')
  expect(Date.now() - started).toBeLessThan(60_000)

  // The rollout id (or its name) undeploys it: the device reports removed.
  const rolloutId = lines[0]!.split('\t')[1]!
  const deploymentId = lines[1]!.split('\t')[2]!
  expect(cli(server.dataDir, 'undeploy', rolloutId).stdout).toBe(`${deploymentId}\tabsent\n`)
  const token = readFileSync(join(server.dataDir, 'operator-token'), 'utf8').trim()
  await eventually('the device to report removed', async () => {
    const res = await fetch(`${server.url}/operator/v1/deployments/${deploymentId}`, {headers: {authorization: `Bearer ${token}`}, tls: {ca: server.ca}})
    const d = (await res.json()) as {desired: string, status: {state: string} | null}
    return d.desired === 'absent' && d.status?.state === 'removed' ? true : undefined
  })
}, 120_000)

interface Result {rolloutId: string, name: string, revision: number, change: string, targets: {clientId: string, deploymentId: string, action: string}[]}
interface ApiDeployment {deploymentId: string, desired: string, values: Record<string, unknown>, status: {state: string, reportedAt: string} | null, updatedAt: string}

test('the rollout model end to end: deploy twice updates in place, a second rollout is refused, undo restores, undeploy removes for good', async () => {
  const packages = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: () => new Response('services:\n  web:\n    image: local/busybox:1\n    network_mode: none\n')})
  running.push({stop: async () => { packages.stop(true); return 0 }})
  const dir = mkdtempSync(join(work, 'model-'))
  writeFileSync(join(dir, 'margo.yaml'), readFileSync(HELLO_WORLD, 'utf8').replace('https://northstarida.example/hello-world/compose.tar.gz', `http://127.0.0.1:${packages.port}/compose.yaml`))
  const env = {MARGO_FAKE_LOG: join(dir, 'fake.log'), MARGO_FAKE_STATE: join(dir, 'fake-state')}
  const server = await startServe(['--enrollment', 'auto'])
  running.push(server)
  expect(cli(server.dataDir, 'app', 'publish', join(dir, 'margo.yaml')).code).toBe(0)
  const agent = startAgent(server, join(dir, 'agent'), env)
  running.push(agent)
  const clientId = await eventually('the device to onboard and report capabilities', () => {
    const devices = cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string, capabilities: unknown}[]>()
    return devices[0]?.capabilities ? devices[0].clientId : undefined
  })
  const token = readFileSync(join(server.dataDir, 'operator-token'), 'utf8').trim()
  const get = async <T>(path: string) => (await (await fetch(`${server.url}/operator/v1${path}`, {headers: {authorization: `Bearer ${token}`}, tls: {ca: server.ca}})).json()) as T
  const composeUps = () => readFileSync(env.MARGO_FAKE_LOG, 'utf8').trim().split('\n').map(l => JSON.parse(l) as {tool: string, argv: string[]})
    .filter(c => c.tool === 'docker' && c.argv.includes('up'))
  const projects = () => new Set(composeUps().map(c => c.argv[c.argv.indexOf('-p') + 1]))
  // Asynchronous, so the agent's log keeps draining while the command waits.
  const deploy = async (...args: string[]) => {
    const proc = Bun.spawn([BIN, 'deploy', 'com-northstartida-hello-world', '--device', clientId, ...args, '--wait', '--timeout', '60s', '--json', '--data-dir', server.dataDir], {
      stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'},
    })
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    return {stdout, stderr, code, json: <T>() => JSON.parse(stdout) as T}
  }

  const first = await deploy('--set', 'greeting=Servus')
  expect(first.stderr).toBe('')
  const r1 = first.json<Result>()
  expect([r1.change, r1.revision]).toEqual(['created', 1])
  const deploymentId = r1.targets[0]!.deploymentId

  const second = await deploy('--set', 'greeting=Hi')
  expect(second.code).toBe(0)
  const r2 = second.json<Result>()
  expect([r2.rolloutId, r2.change, r2.revision]).toEqual([r1.rolloutId, 'updated', 2])
  expect(r2.targets).toEqual([expect.objectContaining({deploymentId, action: 'update'})])
  expect(cli(server.dataDir, 'rollout', 'list', '--json').json<unknown[]>()).toHaveLength(1)
  const updated = await get<ApiDeployment>(`/deployments/${deploymentId}`)
  expect([updated.values.greeting, updated.status?.state]).toEqual(['Hi', 'installed'])
  // One container: both applies went to one compose project.
  expect(composeUps().length).toBe(2)
  expect(projects().size).toBe(1)

  // A second rollout of the app onto the device is refused, naming the one that has it.
  const refused = cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--name', 'pinned', '--device', clientId)
  expect(refused.code).toBe(1)
  expect(refused.stderr).toContain(`rollout com-northstartida-hello-world already targets device ${clientId}`)
  const dryRefused = cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--name', 'pinned', '--device', clientId, '--dry-run')
  expect(dryRefused.code).toBe(1)

  // History, then undo: back to Servus, same deployment id, rolled out in place.
  const history = cli(server.dataDir, 'rollout', 'history', 'com-northstartida-hello-world', '--json').json<{history: {revision: number, actor: string, values: Record<string, unknown>}[]}>()
  expect(history.history.map(h => [h.revision, h.actor, h.values.greeting])).toEqual([[1, 'bootstrap', 'Servus'], [2, 'bootstrap', 'Hi']])
  const undo = cli(server.dataDir, 'rollout', 'undo', 'com-northstartida-hello-world', '--json')
  expect(undo.stderr).toBe('')
  const r3 = undo.json<Result>()
  expect([r3.revision, r3.targets.map(t => t.deploymentId)]).toEqual([3, [deploymentId]])
  await eventually('the device to install revision 3', async () => {
    const d = await get<ApiDeployment>(`/deployments/${deploymentId}`)
    return d.values.greeting === 'Servus' && d.status?.state === 'installed' && d.status.reportedAt >= d.updatedAt ? true : undefined
  }, 30000)
  expect(projects().size).toBe(1)

  // Undeploy by name: listed as removing, the device reports removed, and nothing comes back.
  const removed = cli(server.dataDir, 'undeploy', 'com-northstartida-hello-world')
  expect(removed.stdout).toBe(`${deploymentId}\tabsent\n`)
  await eventually('the device to report removed', async () => {
    const d = await get<ApiDeployment>(`/deployments/${deploymentId}`)
    return d.desired === 'absent' && d.status?.state === 'removed' ? true : undefined
  }, 30000)
  await Bun.sleep(2500)
  const all = await get<{deployments: ApiDeployment[]}>(`/deployments?clientId=${clientId}`)
  expect(all.deployments.filter(d => d.desired === 'present')).toEqual([])
  expect(cli(server.dataDir, 'rollout', 'list', '--json').json<unknown[]>()).toEqual([])
}, 180_000)
