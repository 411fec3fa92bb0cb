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

  const server = await startServe()
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
  expect(lines[0]).toMatch(/^rollout\t[0-9a-f-]{36}$/)
  expect(lines[1]).toMatch(new RegExp(`^target\t${clientId}\t[0-9a-f-]{36}\tcreate\t1\\.0\tcompose\tsha256:`))
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${clientId}\t[0-9a-f-]{36}\tinstalled$`)))
  expect(lines.at(-1)).toBe('installed\t1')
  expect(Date.now() - started).toBeLessThan(60_000)

  // The rollout id undeploys it: the device reports removed.
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
