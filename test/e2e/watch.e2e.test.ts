import {afterAll, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {HELLO_WORLD} from '../server/harness.ts'
import {BIN, cli, eventually, startAgent, startServe} from './binary.ts'

const work = mkdtempSync(join(tmpdir(), 'margo-watch-e2e-'))
const running: {stop(): Promise<number>}[] = []
afterAll(async () => {
  for (const p of running.reverse()) await p.stop().catch(() => 0)
  rmSync(work, {recursive: true, force: true})
})

interface Overview {devices: {online: number}, deployments: {byState: Record<string, number>}}

test('margo status --watch --json prints a line when a deployment reaches installed', async () => {
  const packages = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: () => new Response('services:\n  web:\n    image: local/busybox:1\n    network_mode: none\n')})
  running.push({stop: async () => { packages.stop(true); return 0 }})
  writeFileSync(join(work, 'margo.yaml'), readFileSync(HELLO_WORLD, 'utf8').replace('https://northstarida.example/hello-world/compose.tar.gz', `http://127.0.0.1:${packages.port}/compose.yaml`))

  const server = await startServe(['--enrollment', 'auto'])
  running.push(server)
  expect(cli(server.dataDir, 'app', 'publish', join(work, 'margo.yaml')).code).toBe(0)
  const agent = startAgent(server, join(work, 'agent'), {MARGO_FAKE_LOG: join(work, 'fake.log'), MARGO_FAKE_STATE: join(work, 'fake-state')})
  running.push(agent)
  const clientId = await eventually('the device to onboard', () => {
    const devices = cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string, capabilities: unknown}[]>()
    return devices[0]?.capabilities ? devices[0].clientId : undefined
  })

  const watch = Bun.spawn([BIN, 'status', '--watch', '--json', '--data-dir', server.dataDir], {stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'}})
  running.push({stop: async () => { watch.kill('SIGTERM'); return watch.exited }})
  const lines: Overview[] = []
  let stderr = ''
  void (async () => { for await (const c of watch.stderr) stderr += new TextDecoder().decode(c) })()
  void (async () => {
    let buffered = ''
    for await (const chunk of watch.stdout) {
      buffered += new TextDecoder().decode(chunk)
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buffered.slice(0, nl)) as Overview)
        buffered = buffered.slice(nl + 1)
      }
    }
  })()
  await eventually('the first view', () => (lines.length ? true : undefined), 10_000)
  expect(lines[0]!.deployments.byState).toEqual({})

  expect(cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--device', clientId, '--json').code).toBe(0)
  await eventually(`a line with the deployment installed (stderr: ${stderr})`, () => lines.find(l => l.deployments.byState.installed === 1), 30_000)
  // The polling device is seen: it shows online once its last-seen time is known to the view.
  await eventually('a line with the device online', () => lines.find(l => l.devices.online === 1), 30_000)
  // Every line is a change: no view is printed twice in a row.
  const views = lines.map(l => JSON.stringify({...l, generatedAt: undefined}))
  for (let i = 1; i < views.length; i++) expect(views[i]).not.toBe(views[i - 1])

  // Ctrl-C (or SIGTERM) ends the watch cleanly.
  watch.kill('SIGINT')
  expect(await watch.exited).toBe(0)
  expect(stderr).toBe('')
}, 60_000)
