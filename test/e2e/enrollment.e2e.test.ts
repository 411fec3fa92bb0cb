import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {HELLO_WORLD} from '../server/harness.ts'
import {BIN, cli, eventually, startAgent, startServe, type AgentProcess, type ServeProcess} from './binary.ts'

const APP = 'com-northstartida-hello-world'
const work = mkdtempSync(join(tmpdir(), 'margo-enrollment-e2e-'))
let server: ServeProcess
const agents: AgentProcess[] = []

beforeAll(async () => {
  // No --enrollment: the default is what is tested here.
  server = await startServe()
  expect(cli(server.dataDir, 'app', 'publish', HELLO_WORLD).code).toBe(0)
})
afterAll(async () => {
  for (const a of agents) await a.stop().catch(() => 0)
  await server?.stop().catch(() => 0)
  rmSync(work, {recursive: true, force: true})
})

interface DeviceJson {clientId: string, enrollment: string, labels: Record<string, string>, certificate: {fingerprint: string}}
interface AgentStatusJson {clientId: string | null, fingerprint: string | null, join: {outcome: string, code?: string, message?: string} | null}

function agentStatus(stateDir: string): AgentStatusJson {
  const r = Bun.spawnSync([BIN, 'agent', 'status', '--state-dir', stateDir, '--json'])
  // Before the agent created its state dir there is nothing to read yet.
  return r.exitCode === 0 ? JSON.parse(r.stdout.toString()) as AgentStatusJson : {clientId: null, fingerprint: null, join: null}
}
const devices = () => cli(server.dataDir, 'device', 'list', '--json').json<DeviceJson[]>()

function agent(name: string, env: Record<string, string> = {}): AgentProcess {
  const a = startAgent(server, join(work, name), env, ['--simulate-drivers'])
  agents.push(a)
  return a
}

/** The server's view of the device an agent runs, found by its certificate's fingerprint. */
async function deviceOf(a: AgentProcess, what: (d: DeviceJson) => boolean = () => true): Promise<DeviceJson> {
  const fingerprint = await eventually('the agent to have a certificate', () => agentStatus(a.stateDir).fingerprint ?? undefined)
  return eventually(`the device ${fingerprint} on the server`, () => devices().find(d => d.certificate.fingerprint === fingerprint && what(d)))
}

async function deploymentState(deploymentId: string): Promise<string | undefined> {
  const token = readFileSync(join(server.dataDir, 'operator-token'), 'utf8').trim()
  const res = await fetch(`${server.url}/operator/v1/deployments/${deploymentId}`, {tls: {ca: server.ca}, headers: {authorization: `Bearer ${token}`}})
  return ((await res.json()) as {status: {state: string} | null}).status?.state
}

test('by default a new agent is pending and gets nothing until an operator approves it; then it converges', async () => {
  expect(server.stderr()).not.toContain('enrollment=auto')
  const a = agent('pending')
  const pending = await deviceOf(a, d => d.enrollment === 'pending')
  await a.waitForLog(/enrollment\.pending/)
  const {deploymentId} = cli(server.dataDir, 'deploy', APP, '--device', pending.clientId, '--profile', 'compose', '--json').json<{deploymentId: string}>()
  // Several refused polls later, nothing was applied or reported.
  await Bun.sleep(2500)
  expect(await deploymentState(deploymentId)).toBeUndefined()
  expect(a.log()).not.toContain('deploy.installed')
  expect(agentStatus(a.stateDir)).toMatchObject({clientId: pending.clientId})
  // One line in the server's log for the new device, with the command that approves it.
  const lines = server.stderr().split('\n').filter(l => l.includes('device.pending') && l.includes(pending.clientId))
  expect(lines).toHaveLength(1)
  expect(lines[0]).toContain(`margo device approve ${pending.clientId}`)

  // Pending devices come first in the list.
  expect(cli(server.dataDir, 'device', 'list').stdout.split('\n')[0]).toStartWith(pending.clientId)
  const approved = cli(server.dataDir, 'device', 'approve', pending.clientId)
  expect(approved.stdout).toBe(`${pending.clientId}\tactive\n`)
  // The fingerprint the approval shows is the one the device reports about itself.
  expect(agentStatus(a.stateDir).fingerprint).toBe(pending.certificate.fingerprint)
  await eventually('the deployment to be installed after approval', async () => ((await deploymentState(deploymentId)) === 'installed' ? true : undefined))
}, 90_000)

describe('join tokens', () => {
  let token = ''
  let admitted: AgentProcess

  beforeAll(() => {
    const created = cli(server.dataDir, 'device', 'join-token', 'create', '--labels', 'site=plant-9', '--labels', 'line=2')
    expect(created.code).toBe(0)
    token = created.stdout.trim()
    expect(token).toStartWith('margo-join_')
  })

  test('an agent started with a valid join token is active at once, with the token\'s labels, and converges', async () => {
    admitted = agent('joined', {MARGO_JOIN_TOKEN: token})
    const device = await deviceOf(admitted)
    expect(device).toMatchObject({enrollment: 'active', labels: {site: 'plant-9', line: '2'}})
    const rollout = cli(server.dataDir, 'deploy', APP, '--selector', 'site=plant-9', '--profile', 'compose', '--wait', '--timeout', '30s')
    expect(rollout.code).toBe(0)
    expect(rollout.stdout.trimEnd().split('\n').at(-1)).toBe('installed\t1')
    expect(admitted.log()).not.toContain('enrollment.pending')
    expect(agentStatus(admitted.stateDir).join).toMatchObject({outcome: 'admitted'})
    // The token is in neither log nor state dir.
    expect(admitted.log()).not.toContain(token)
    expect(server.stderr()).not.toContain(token)
    expect(Bun.spawnSync(['grep', '-rl', token, admitted.stateDir]).stdout.toString()).toBe('')
    const audit = cli(server.dataDir, 'audit', 'list', '--json').json<{action: string, actor: string}[]>()
    expect(audit.filter(e => e.action === 'join_token.used')).toHaveLength(1)
  }, 60_000)

  test('a restart does not present the token again', async () => {
    await admitted.stop()
    // Even onboarding afresh (clientId forgotten, same certificate) does not spend another use.
    rmSync(join(admitted.stateDir, 'identity.json'))
    const again = agent('joined', {MARGO_JOIN_TOKEN: token})
    await again.waitForLog(/agent\.ready/)
    expect(again.log()).not.toContain('join.refused')
    const listed = cli(server.dataDir, 'device', 'join-token', 'list', '--json').json<{uses: number, maxUses: number}[]>()
    expect(listed).toEqual([expect.objectContaining({uses: 1, maxUses: 1})])
  }, 60_000)

  test('a used-up token cannot admit a second certificate: refused with a clear message, the device stays pending', async () => {
    const second = agent('second', {MARGO_JOIN_TOKEN: token})
    await second.waitForLog(/join\.refused/)
    expect(second.log()).toMatch(/has admitted 1 of 1 device and admits no more/)
    expect((await deviceOf(second)).enrollment).toBe('pending')
    await second.waitForLog(/enrollment\.pending/)
    expect(agentStatus(second.stateDir).join).toMatchObject({outcome: 'refused', code: 'join_token_used_up'})
  }, 60_000)

  test('expired and revoked tokens are refused with a clear message, the device stays pending', async () => {
    const expiring = cli(server.dataDir, 'device', 'join-token', 'create', '--expires', '1s').stdout.trim()
    const revoked = cli(server.dataDir, 'device', 'join-token', 'create', '--json').json<{id: string, token: string}>()
    expect(cli(server.dataDir, 'device', 'join-token', 'revoke', revoked.id).stdout).toBe(`${revoked.id}\n`)
    await Bun.sleep(1200)
    const late = agent('expired', {MARGO_JOIN_TOKEN: expiring})
    const refusedRevoked = agent('revoked', {MARGO_JOIN_TOKEN: revoked.token})
    await late.waitForLog(/join\.refused/)
    await refusedRevoked.waitForLog(/join\.refused/)
    expect(late.log()).toMatch(/join token jt-[0-9a-f]+ expired at/)
    expect(refusedRevoked.log()).toContain(`join token ${revoked.id} was revoked at`)
    expect((await deviceOf(late)).enrollment).toBe('pending')
    expect((await deviceOf(refusedRevoked)).enrollment).toBe('pending')
    const list = cli(server.dataDir, 'device', 'join-token', 'list')
    expect(list.stdout).toContain(revoked.id)
  }, 60_000)

  test('bulk approval: every pending device at once, each shown with its certificate fingerprint', () => {
    const pending = devices().filter(d => d.enrollment === 'pending')
    expect(pending.length).toBe(3)
    const approved = cli(server.dataDir, 'device', 'approve', '--all-pending', '--json').json<DeviceJson[]>()
    expect(approved.map(d => d.clientId).sort()).toEqual(pending.map(d => d.clientId).sort())
    expect(approved.every(d => d.enrollment === 'active' && d.certificate.fingerprint.startsWith('sha256:'))).toBe(true)
    expect(devices().filter(d => d.enrollment === 'pending')).toEqual([])
  })
})
