import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {APP_ID, DEPLOYMENT_ID, DEVICE_A, DEVICE_B, type FakeFleet, ROLLOUT_ID, SMALL, TOKEN, startFakeFleet} from './fake-fleet.ts'

const CLI = join(import.meta.dir, 'fixtures', 'cli.ts')
let fake: FakeFleet
let home: string

beforeAll(() => {
  fake = startFakeFleet()
  home = mkdtempSync(join(tmpdir(), 'margo-fleet-cmd-'))
})
afterAll(() => {
  fake.stop()
  rmSync(home, {recursive: true, force: true})
})

/** The fleet commands, piped, against the fake; a private HOME so no login file is read. */
async function margo(...args: string[]) {
  const proc = Bun.spawn([process.execPath, CLI, ...args, '--server', fake.url, '--token', TOKEN], {
    env: {PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data'), NODE_ENV: 'production'},
    stdout: 'pipe', stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return {code, stdout, stderr}
}
const lastBody = () => fake.requests.at(-1)!.body as Record<string, unknown>
const posted = () => fake.requests.filter(r => r.method === 'POST' && r.path === '/rollouts').at(-1)!.body as Record<string, unknown>

describe('margo deploy', () => {
  test('a selector rollout: one line per target and per skipped device, with the reason', async () => {
    const r = await margo('deploy', `${APP_ID}@1.0`, '--selector', 'site=plant-7,line in (1,2)', '--set', 'greeting=Hi', '--set', 'count=3')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(lastBody()).toEqual({appId: APP_ID, version: '1.0', selector: 'site=plant-7,line in (1,2)', values: {greeting: 'Hi', count: '3'}})
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      `rollout\t${ROLLOUT_ID}\t${APP_ID}\t1\tcreated`,
      `target\t${DEVICE_A}\t${DEPLOYMENT_ID}\tupdate\t1.0\tcompose\tsha256:${'cd'.repeat(32)}`,
      expect.stringMatching(new RegExp(`^target\t${DEVICE_B}\t\\S+\tcreate\t`)),
      `skipped\t${SMALL}\tprofile hello-compose needs 16Gi memory, device has 8Gi`,
    ])
  })

  test('--name names the rollout in the request', async () => {
    const r = await margo('deploy', APP_ID, '--name', 'canary', '--device', DEVICE_A)
    expect(r.code).toBe(0)
    expect(posted()).toEqual({name: 'canary', appId: APP_ID, devices: [DEVICE_A]})
    expect(r.stdout).toStartWith(`rollout\t${ROLLOUT_ID}\tcanary\t1\tcreated\n`)
  })

  test('an empty selector targets every device; several --device flags make a device list', async () => {
    expect((await margo('deploy', APP_ID, '--selector=')).code).toBe(0)
    expect(posted()).toEqual({appId: APP_ID, selector: ''})
    expect((await margo('deploy', APP_ID, '-d', DEVICE_A, '-d', DEVICE_B, '-d', DEVICE_A)).code).toBe(0)
    expect(posted()).toEqual({appId: APP_ID, devices: [DEVICE_A, DEVICE_B]})
  })

  test('--json with one device repeats its deploymentId at the top', async () => {
    const r = await margo('deploy', APP_ID, '--device', DEVICE_A, '--json')
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.deploymentId).toBe(DEPLOYMENT_ID)
    expect(doc.rolloutId).toBe(ROLLOUT_ID)
    expect(doc.targets[0].action).toBe('update')
  })

  test('--dry-run sends dryRun and prints each device\'s YAML or diff', async () => {
    const r = await margo('deploy', APP_ID, '--selector', 'site=a', '--dry-run')
    expect(r.code).toBe(0)
    expect(posted().dryRun).toBe(true)
    expect(r.stdout).toStartWith(`rollout\t-\t${APP_ID}\t1\tcreated\n`)
    expect(r.stdout).toContain(`# device ${DEVICE_A}: update deployment ${DEPLOYMENT_ID}\n--- current\n+++ new\n@@ -1 +1 @@\n-greeting: Hello\n+greeting: Hi\n`)
    expect(r.stdout).toContain(`# device ${DEVICE_B}: create\nkind: ApplicationDeployment\n# for ${DEVICE_B}`)
  })

  test('no target, both kinds of target, or a malformed selector are usage errors (exit 2) before any request', async () => {
    const before = fake.requests.length
    const none = await margo('deploy', APP_ID)
    expect(none.code).toBe(2)
    expect(none.stderr).toStartWith('error: name the target: --device CLIENT_ID')
    expect((await margo('deploy', APP_ID, '--device', DEVICE_A, '--selector', 'a=b')).code).toBe(2)
    const bad = await margo('deploy', APP_ID, '--selector', 'site in (a,b')
    expect(bad.code).toBe(2)
    expect(bad.stderr.trimEnd()).toBe('error: --selector "site in (a,b": invalid selector at column 13: expected "," or ")" in the values of site, got the end of the selector')
    expect(fake.requests.length).toBe(before)
  })

  test('invalid parameter values → exit 2 with one line per problem; unknown device → exit 3', async () => {
    const r = await margo('deploy', APP_ID, '--device', DEVICE_A, '--set', 'port=1')
    expect(r.code).toBe(2)
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `error: parameter values are invalid — check the values and profile against: margo app show ${APP_ID}`,
      '  parameters.port: unknown parameter "port"',
    ])
    const ghost = await margo('deploy', APP_ID, '--device', 'ghost')
    expect(ghost.code).toBe(3)
    expect(ghost.stderr.trimEnd()).toBe('error: device ghost not found — run: margo device list')
  })

  test('--wait prints each device\'s state changes and exits 0 once all are installed', async () => {
    fake.script([[{state: 'installing'}, {state: 'installed'}], [{state: 'installed'}, {state: 'installed'}]])
    const r = await margo('deploy', APP_ID, '--device', DEVICE_A, '--device', DEVICE_B, '--wait')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines.slice(3)).toEqual([
      `${DEVICE_A}\t${DEPLOYMENT_ID}\tinstalling`,
      expect.stringMatching(new RegExp(`^${DEVICE_B}\t\\S+\tinstalled$`)),
      `${DEVICE_A}\t${DEPLOYMENT_ID}\tinstalled`,
      'installed\t2',
    ])
  })

  test('--wait exits 1 naming the device and the error when a deployment fails', async () => {
    fake.script([[{state: 'failed', error: {code: 'PULL_FAILED', message: 'image not found'}}, {state: 'installed'}]])
    const r = await margo('deploy', APP_ID, '--device', DEVICE_A, '--device', DEVICE_B, '--wait', '--json')
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout).wait.outcome).toBe('failed')
    expect(r.stderr.trimEnd()).toBe(`error: deployment ${DEPLOYMENT_ID} failed on device ${DEVICE_A}: PULL_FAILED: image not found — see: margo status --device ${DEVICE_A}`)
  })

  test('Ctrl-C during --wait: the rollout continues on the server, the error says how to follow it, exit 130', async () => {
    fake.script([[{state: 'installing'}, {state: 'installing'}]])
    const polls = () => fake.requests.filter(r => r.method === 'GET' && r.path === `/rollouts/${ROLLOUT_ID}`).length
    const before = polls()
    const proc = Bun.spawn([process.execPath, CLI, 'deploy', APP_ID, '--device', DEVICE_A, '--device', DEVICE_B, '--wait', '--server', fake.url, '--token', TOKEN], {
      env: {PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data'), NODE_ENV: 'production'},
      stdout: 'pipe', stderr: 'pipe',
    })
    const stdout = new Response(proc.stdout).text()
    const stderr = new Response(proc.stderr).text()
    for (let i = 0; i < 200 && polls() === before; i++) await Bun.sleep(50)
    proc.kill('SIGINT')
    expect(await proc.exited).toBe(130)
    expect(await stdout).toEndWith('\n')
    expect((await stderr).trimEnd()).toBe(`error: interrupted — rollout ${ROLLOUT_ID} continues on the server; follow it with: margo status ${APP_ID} --watch`)
  })

  test('--wait with a bad --timeout is a usage error', async () => {
    const r = await margo('deploy', APP_ID, '--device', DEVICE_A, '--wait', '--timeout', 'soon')
    expect(r.code).toBe(2)
    expect(r.stderr).toStartWith('error: --timeout: invalid duration "soon"')
  })
})

describe('margo undeploy', () => {
  test('a rollout id deletes the rollout; a deployment id the deployment; anything else is exit 3', async () => {
    const rollout = await margo('undeploy', ROLLOUT_ID)
    expect(rollout.code).toBe(0)
    expect(rollout.stdout).toBe(`${DEPLOYMENT_ID}\tabsent\n`)
    expect(fake.requests.at(-1)!.path).toBe(`/rollouts/${ROLLOUT_ID}`)

    const deployment = await margo('undeploy', DEPLOYMENT_ID, '--json')
    expect(deployment.code).toBe(0)
    expect(JSON.parse(deployment.stdout).desired).toBe('absent')
    expect(fake.requests.at(-1)!.path).toBe(`/deployments/${DEPLOYMENT_ID}`)

    const none = await margo('undeploy', 'nope')
    expect(none.code).toBe(3)
    expect(none.stderr.trimEnd()).toBe('error: no rollout or deployment nope — run: margo status')
  })

  test('a shortened id is resolved once across rollouts and deployments, then only that one is deleted', async () => {
    const before = fake.requests.length
    const r = await margo('undeploy', DEPLOYMENT_ID.slice(0, 8))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(fake.requests.slice(before).map(x => `${x.method} ${x.path}`)).toEqual([`GET /ids/${DEPLOYMENT_ID.slice(0, 8)}`, `DELETE /deployments/${DEPLOYMENT_ID}`])
  })
})

describe('margo device label', () => {
  test('sets and removes labels with one merge patch', async () => {
    const r = await margo('device', 'label', DEVICE_A, 'line=2', 'site-', 'example.com/zone=north')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(lastBody()).toEqual({labels: {line: '2', site: null, 'example.com/zone': 'north'}})
    expect(r.stdout).toBe(`${DEVICE_A}\texample.com/zone=north,line=2\n`)
  })

  test('malformed labels are refused locally with every problem (exit 2)', async () => {
    const before = fake.requests.length
    const r = await margo('device', 'label', DEVICE_A, 'bad key=x', `ok=${'v'.repeat(64)}`, 'novalue')
    expect(r.code).toBe(2)
    const lines = r.stderr.trimEnd().split('\n')
    expect(lines[0]).toStartWith('error: invalid label arguments')
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}bad key=x: invalid key/),
      expect.stringMatching(/^ {2}ok=v+: invalid value: the value is 64 characters long/),
      '  novalue: expected key=value to set a label or key- to remove one',
    ])
    expect(fake.requests.length).toBe(before)
    expect((await margo('device', 'label', DEVICE_A)).code).toBe(2)
  })
})
