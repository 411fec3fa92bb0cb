import {afterAll, expect, test} from 'bun:test'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {HELLO_WORLD} from '../server/harness.ts'
import {BIN, cli, eventually, startAgent, startServe, type AgentProcess} from './binary.ts'

const work = mkdtempSync(join(tmpdir(), 'margo-lifecycle-e2e-'))
const running: {stop(): Promise<number>}[] = []
afterAll(async () => {
  for (const p of running.reverse()) await p.stop().catch(() => 0)
  rmSync(work, {recursive: true, force: true})
})

interface DeviceView {clientId: string, enrollment: string, labels: Record<string, string>, tombstone?: {reason: string, replacedBy: string | null}}
const SECRET = 'e2e-secret-9d0c7b'

/** Every file under a directory, as text. */
const filesUnder = (dir: string): string[] => readdirSync(dir, {recursive: true, encoding: 'utf8'}).map(f => join(dir, f)).filter(f => statSync(f).isFile()).map(f => readFileSync(f, 'latin1'))

test('reject, replace and delete with real agents; a secret reaches only the device', async () => {
  const server = await startServe(['--enrollment', 'approve'])
  running.push(server)
  const margo = (...args: string[]) => cli(server.dataDir, ...args)
  expect(margo('app', 'publish', HELLO_WORLD).code).toBe(0)
  const secret = Bun.spawnSync([BIN, 'secret', 'set', 'greeting', '--value', '-', '--data-dir', server.dataDir], {stdin: Buffer.from(`${SECRET}\n`), stdout: 'pipe', stderr: 'pipe'})
  expect(secret.exitCode).toBe(0)
  expect(statSync(join(server.dataDir, 'secret.key')).mode & 0o777).toBe(0o600)

  const agents: Record<string, AgentProcess> = {}
  const start = (name: string) => {
    agents[name] = startAgent(server, join(work, name), {}, ['--simulate-drivers'])
    running.push(agents[name])
  }
  const devices = (all = false) => margo('device', 'list', '--json', ...(all ? ['--all'] : [])).json<DeviceView[]>()
  const newDevice = (known: string[]) => eventually('a new device to onboard', () => devices().find(d => !known.includes(d.clientId))?.clientId)

  // Reject: a pending device is refused for good.
  start('rejected')
  const rejected = await newDevice([])
  const reject = margo('device', 'reject', rejected, '--json')
  expect(reject.code).toBe(0)
  expect(devices().map(d => d.clientId)).not.toContain(rejected)
  expect(devices(true).find(d => d.clientId === rejected)?.tombstone?.reason).toBe('rejected')
  await agents.rejected!.waitForLog(/403|not trusted|refused/i)

  // An approved device runs a rollout whose value refers to the secret.
  start('old')
  const old = await newDevice([rejected])
  expect(margo('device', 'approve', old).code).toBe(0)
  expect(margo('device', 'label', old, 'site=plant-7').code).toBe(0)
  const deploy = margo('deploy', 'com-northstartida-hello-world', '--name', 'hello', '--device', old, '--set', 'greeting=${secret:greeting}', '--json')
  expect(deploy.code).toBe(0)
  const installedOn = (clientId: string) => eventually(`a deployment installed on ${clientId}`, () => {
    const shown = margo('status', clientId, '--json')
    return shown.code === 0 && /"installed"/.test(shown.stdout) ? shown.stdout : undefined
  }, 30000)
  await installedOn(old)
  expect(filesUnder(agents.old!.stateDir).some(t => t.includes(SECRET))).toBe(true)

  // Replace: the new device takes over the label and the rollout; the old one is refused from its next request.
  start('new')
  const fresh = await newDevice([rejected, old])
  const replace = margo('device', 'replace', old, fresh, '--json')
  expect(replace.code).toBe(0)
  expect(replace.json<{rollouts: {name: string}[], approved: boolean}>()).toMatchObject({rollouts: [{name: 'hello'}], approved: true})
  await installedOn(fresh)
  const taken = devices().find(d => d.clientId === fresh)!
  expect(taken.labels).toEqual({site: 'plant-7'})
  expect(devices().map(d => d.clientId)).toEqual([fresh])
  const oldLog = agents.old!.log().length
  await eventually('the old agent to be refused', () => (/403|certificate-not-trusted|revoked/i.test(agents.old!.log().slice(oldLog)) ? true : undefined))

  // Delete: revoked at once, out of the fleet view, kept as a tombstone.
  const freshLog = agents.new!.log().length
  expect(margo('device', 'delete', fresh).code).toBe(0)
  await eventually('the deleted agent to be refused', () => (/403|certificate-not-trusted|revoked/i.test(agents.new!.log().slice(freshLog)) ? true : undefined))
  expect(devices()).toEqual([])
  expect(devices(true).map(d => d.tombstone?.reason).sort()).toEqual(['deleted', 'rejected', 'replaced'])
  const status = margo('status', '--json')
  expect(status.json<{devices: {total: number}}>().devices.total).toBe(0)

  // The secret was never shown to the operator nor logged; only the devices' state holds it.
  for (const text of [deploy.stdout, replace.stdout, status.stdout, margo('audit', 'export').stdout, margo('secret', 'list', '--json').stdout, margo('rollout', 'history', 'hello', '--json').stdout, server.stderr()]) {
    expect(text.includes(SECRET)).toBe(false)
  }
  for (const a of Object.values(agents)) expect(a.log().includes(SECRET)).toBe(false)
}, 120_000)
