import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {dataDirFiles} from '../../../src/config/paths.ts'
import {APP_ID, DEPLOYMENT_ID, DEVICE_ID, type FakeOperator, TOKEN, startFakeOperator} from '../client/fake-operator.ts'

const CLI = join(import.meta.dir, 'fixtures', 'cli.ts')
let fake: FakeOperator
let root: string
let dataDir: string
let home: string

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI piped (no TTY) with a private HOME/XDG so no real login file or data dir is used. */
async function margo(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const proc = Bun.spawn([process.execPath, CLI, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_DATA_HOME: join(home, 'data'),
      NODE_ENV: 'production',
      ...env,
    },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return {code, stdout, stderr}
}

/** Connection through a local server's data dir, as on the server's own machine. */
const local = () => ({MARGO_DATA_DIR: dataDir})

beforeAll(() => {
  fake = startFakeOperator()
  root = mkdtempSync(join(tmpdir(), 'margo-cmd-'))
  home = join(root, 'home')
  dataDir = join(root, 'data')
  const files = dataDirFiles(dataDir)
  mkdirSync(join(dataDir, 'tls'), {recursive: true})
  writeFileSync(files.serverInfo, JSON.stringify({operatorUrl: fake.operatorUrl, url: fake.url, pid: process.pid, version: '0.1.0'}))
  writeFileSync(files.operatorToken, TOKEN)
})
afterAll(() => {
  fake.stop()
  rmSync(root, {recursive: true, force: true})
})

function expectOneErrorLine(r: Run, code: number, text: string | RegExp) {
  expect(r.code).toBe(code)
  expect(r.stdout).toBe('')
  const lines = r.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toStartWith('error: ')
  if (typeof text === 'string') expect(lines[0]).toContain(text)
  else expect(lines[0]).toMatch(text)
}

describe('operator commands against a fake operator API', () => {
  test('device list finds the local server through its data dir', async () => {
    const r = await margo(['device', 'list'], local())
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const rows = r.stdout.trimEnd().split('\n').map(l => l.split('\t'))
    // The server lists the active device first; pending devices wait for someone, so they come first.
    expect(rows.map(c => c[0])).toEqual(['ffff0000-0000-4000-8000-000000000000', DEVICE_ID])
    expect(rows[0]![1]).toBe('pending')
  })

  test('--json prints exactly one JSON document', async () => {
    const r = await margo(['device', 'list', '--json'], local())
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.map((d: {clientId: string}) => d.clientId)).toContain(DEVICE_ID)
  })

  test('device show, approve, revoke', async () => {
    const show = await margo(['device', 'show', DEVICE_ID], local())
    expect(show.code).toBe(0)
    expect(show.stdout).toContain(`clientId\t${DEVICE_ID}`)
    expect((await margo(['device', 'approve', DEVICE_ID], local())).stdout).toBe(`${DEVICE_ID}\tactive\n`)
    expect((await margo(['device', 'revoke', DEVICE_ID, '--json'], local())).stdout).toContain('"enrollment": "revoked"')
  })

  test('unknown device → exit 3 and one line saying what to run', async () => {
    expectOneErrorLine(await margo(['device', 'show', 'nope'], local()), 3, 'error: device nope not found — run: margo device list')
  })

  test('wrong token → exit 4', async () => {
    expectOneErrorLine(await margo(['device', 'list', '--server', fake.url, '--token', 'wrong']), 4, 'operator token rejected')
  })

  test('nothing listening → exit 5 naming the URL', async () => {
    const probe = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: () => new Response('')})
    const port = probe.port
    probe.stop(true)
    expectOneErrorLine(await margo(['status', '--server', `http://127.0.0.1:${port}`, '--token', 't']), 5, `cannot reach http://127.0.0.1:${port}/operator/v1`)
  })

  test('no server anywhere → exit 2 naming where it looked', async () => {
    const empty = join(root, 'empty-data')
    mkdirSync(empty, {recursive: true})
    expectOneErrorLine(await margo(['app', 'list'], {MARGO_DATA_DIR: empty}), 2, `no running server found in ${empty}`)
  })

  test('deploy without a target → exit 2, one line, help hint, no usage dump', async () => {
    expectOneErrorLine(await margo(['deploy', APP_ID], local()), 2, /^error: name the target: --device CLIENT_ID .* — see: margo deploy --help$/)
  })

  test('--verbose adds the cause chain but never by default a stack trace', async () => {
    const quiet = await margo(['status', '--server', 'http://127.0.0.1:1', '--token', 't'])
    expect(quiet.stderr).not.toContain('    at ')
    const verbose = await margo(['status', '--server', 'http://127.0.0.1:1', '--token', 't', '--verbose'])
    expect(verbose.code).toBe(5)
    expect(verbose.stderr).toContain('caused by:')
  })

  // deploy against the fleet endpoints (rollouts, dry run, --wait): test/unit/rollouts/commands.test.ts

  test('app publish, list, show', async () => {
    const file = join(root, 'margo.yaml')
    writeFileSync(file, 'apiVersion: margo.org/v1-alpha1\nkind: ApplicationDescription\nmetadata:\n  version: "1.1"\n')
    const pub = await margo(['app', 'publish', file], local())
    expect(pub.code).toBe(0)
    expect(pub.stdout).toBe(`${APP_ID}\t1.1\tunchanged\n`)
    expect(fake.requests.at(-1)!.headers['content-type']).toBe('application/yaml')

    expect((await margo(['app', 'list'], local())).stdout).toStartWith(`${APP_ID}\tHello World\t1.1`)
    const show = await margo(['app', 'show', APP_ID, '--version', '1.0'], local())
    expect(show.code).toBe(0)
    expect(fake.requests.at(-1)!.query).toEqual({version: '1.0'})
    expectOneErrorLine(await margo(['app', 'show', APP_ID, '--version', '7'], local()), 3, `app ${APP_ID} version 7 not found`)
  })

  test('undeploy and status', async () => {
    expect((await margo(['undeploy', DEPLOYMENT_ID], local())).stdout).toBe(`${DEPLOYMENT_ID}\tabsent\n`)
    expect(fake.requests.at(-1)!.method).toBe('DELETE')

    const status = await margo(['status', '--json'], local())
    expect(status.code).toBe(0)
    const doc = JSON.parse(status.stdout)
    expect(doc.devices.total).toBe(2)

    const one = await margo(['status', DEVICE_ID, '--json'], local())
    expect(JSON.parse(one.stdout).kind).toBe('device')
    expectOneErrorLine(await margo(['status', 'ghost'], local()), 3, 'no deployment, device or app has the id ghost')
  })

  test('login stores a 0600 file that later commands use without flags', async () => {
    const r = await margo(['login', '--server', fake.url, '--token', TOKEN])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const configPath = join(home, 'config', 'margo', 'config.yaml')
    expect(statSync(configPath).mode & 0o777).toBe(0o600)
    const list = await margo(['device', 'list'])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain(DEVICE_ID)
    rmSync(configPath)
  })
})
