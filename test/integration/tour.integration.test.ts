import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {type AgentProcess, BIN, cli, ensureBinary, eventually, type ServeProcess, startAgent, startServe} from '../e2e/binary.ts'
import {engineTierEnabled, freeLoopbackPort, run} from './engine.ts'

/**
 * The README's tour, step by step, with the compiled binary and a real engine: serve, prepare and
 * publish examples/hello-compose, run the agent with the host's docker, deploy with --set, update
 * the greeting, undeploy. Enabled like compose.integration.test.ts: MARGO_INTEGRATION=1 (the
 * setup script runs first, as root) or a `docker info` that already answers.
 */
const ROOT = join(import.meta.dir, '../..')
const EXAMPLE = join(ROOT, 'examples/hello-compose')
const SETUP = join(import.meta.dir, 'setup-docker.sh')
const APP = 'com-example-hello-compose'

/** MARGO_INTEGRATION=1: set the engine up first (as root). */
const requested = process.env.MARGO_INTEGRATION === '1'
const enabled = engineTierEnabled('tour integration test')

describe.skipIf(!enabled)('the README tour with a real engine', () => {
  const work = mkdtempSync(join(tmpdir(), 'margo-tour-it-'))
  const packages = join(work, 'packages')
  let server: ServeProcess
  let agent: AgentProcess
  let clientId = ''
  let deploymentId = ''
  const project = () => `hello-compose-${deploymentId.slice(0, 8)}`
  const containers = () => run(['docker', 'ps', '-q', '--filter', `label=com.docker.compose.project=${project()}`]).out.split('\n').filter(Boolean)
  const envOf = (container: string, name: string) => run(['docker', 'exec', container, 'sh', '-c', `printf '%s' "$${name}"`]).out
  /** The reported state of the deployment, from `margo status <deploymentId>`. */
  const reportedState = () => cli(server.dataDir, 'status', deploymentId).stdout.split('\n').find(l => l.startsWith(`deployment\t${deploymentId}\t`))?.split('\t')[5]

  beforeAll(async () => {
    if (requested) {
      const setup = run(['sh', SETUP])
      if (setup.code !== 0) throw new Error(`setup-docker.sh failed:\n${setup.out}`)
    }
    ensureBinary()
    expect(run([BIN, 'app', 'lint', join(EXAMPLE, 'margo.yaml')]).code).toBe(0)

    const port = freeLoopbackPort()
    const prepared = run(['sh', join(EXAMPLE, 'prepare.sh')], {HELLO_COMPOSE_PORT: String(port), HELLO_COMPOSE_DIR: packages})
    if (prepared.code !== 0) throw new Error(`prepare.sh failed:\n${prepared.out}`)
    expect(prepared.out).toContain(`serving http://127.0.0.1:${port}/hello-compose.tar.gz`)
    // The shipped margo.yaml names the default port; this run serves on a free one.
    const description = readFileSync(join(EXAMPLE, 'margo.yaml'), 'utf8')
    expect(description).toContain('http://127.0.0.1:8780/hello-compose.tar.gz')
    writeFileSync(join(work, 'margo.yaml'), description.replace('127.0.0.1:8780', `127.0.0.1:${port}`))

    server = await startServe()
    const published = cli(server.dataDir, 'app', 'publish', join(work, 'margo.yaml'))
    expect(published.stderr).toBe('')
    expect(published.stdout).toBe(`${APP}\t1.0\tcreated\n`)

    agent = startAgent(server, join(work, 'agent'), {}, [], {realTools: true})
    // The tour's step 3: the new device waits in pending until the operator approves it.
    const pending = await eventually('the device to onboard and wait for approval', () => {
      const devices = cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string, enrollment: string}[]>()
      return devices[0]?.enrollment === 'pending' ? devices[0].clientId : undefined
    })
    expect(cli(server.dataDir, 'device', 'approve', pending).stdout).toBe(`${pending}\tactive\n`)
    clientId = await eventually('the device to onboard and report capabilities', () => {
      const devices = cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string, capabilities: unknown}[]>()
      return devices[0]?.capabilities ? devices[0].clientId : undefined
    })
  }, 240_000)

  afterAll(async () => {
    await agent?.stop().catch(() => 0)
    await server?.stop().catch(() => 0)
    const pidFile = join(packages, 'httpd.pid')
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim())
      if (pid > 0 && run(['grep', '-q', 'httpd', `/proc/${pid}/cmdline`]).code === 0) process.kill(pid, 'SIGTERM')
    }
    if (deploymentId) {
      for (const c of run(['docker', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${project()}`]).out.split('\n').filter(Boolean)) run(['docker', 'rm', '-f', c])
    }
    rmSync(work, {recursive: true, force: true})
  })

  const deploy = (greeting: string) => {
    const r = cli(server.dataDir, 'deploy', APP, '--device', clientId, '--set', `greeting=${greeting}`, '--wait', '--timeout', '120s')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines.at(-1)).toBe('installed\t1')
    const target = lines.find(l => l.startsWith(`target\t${clientId}\t`))!.split('\t')
    return {deploymentId: target[2]!, action: target[3]}
  }

  test('deploy --set: installed, and the container runs with the greeting', () => {
    const created = deploy('Servus')
    expect(created.action).toBe('create')
    deploymentId = created.deploymentId
    expect(reportedState()).toBe('installed')
    const ids = containers()
    expect(ids).toHaveLength(1)
    expect(envOf(ids[0]!, 'GREETING')).toBe('Servus')
    expect(run(['docker', 'logs', ids[0]!]).out).toContain('Servus from margo')
  }, 180_000)

  test('deploying again with a new value updates the same deployment in place', () => {
    const updated = deploy('Moin')
    expect(updated).toEqual({deploymentId, action: 'update'})
    const ids = containers()
    expect(ids).toHaveLength(1)
    expect(envOf(ids[0]!, 'GREETING')).toBe('Moin')
  }, 180_000)

  test('undeploy: the device reports removed and the container is gone', async () => {
    const r = cli(server.dataDir, 'undeploy', deploymentId)
    expect(r.stdout).toBe(`${deploymentId}\tabsent\n`)
    await eventually('the device to report removed', () => (reportedState() === 'removed' ? true : undefined), 120_000)
    expect(containers()).toEqual([])
    // The agent reports before it logs, and its output reaches us through a pipe: wait for the line.
    await eventually('the agent to log deploy.removed', () => (agent.log().includes('"deploy.removed"') ? true : undefined), 10_000)
    expect(agent.log()).toContain('"deploy.removed"')
  }, 180_000)
})
