import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {cli, ensureBinary, eventually, type ServeProcess, startServe} from '../e2e/binary.ts'
import {engineTierEnabled, freeLoopbackPort, run} from './engine.ts'

/**
 * The agent as a container: the image is built without a registry (scripts/build-agent-image.sh),
 * started with the line `margo device enroll-command --container` prints, against a `margo serve`
 * on loopback (host networking). It deploys examples/hello-compose onto the host's engine, updates
 * it, is replaced by a new container on the same state dir (same clientId, nothing deployed twice)
 * and undeploys it. Enabled like tour.integration.test.ts: MARGO_INTEGRATION=1 (the setup script
 * runs first, as root) or a `docker info` that already answers.
 */
const ROOT = join(import.meta.dir, '../..')
const EXAMPLE = join(ROOT, 'examples/hello-compose')
const SETUP = join(import.meta.dir, 'setup-docker.sh')
const APP = 'com-example-hello-compose'
const IMAGE = 'margo-agent:integration'

/** MARGO_INTEGRATION=1: set the engine up first (as root). */
const requested = process.env.MARGO_INTEGRATION === '1'
const enabled = engineTierEnabled('agent container integration test')

describe.skipIf(!enabled)('the agent container image with a real engine', () => {
  const timings: Record<string, number> = {}
  const work = mkdtempSync(join(tmpdir(), 'margo-agent-container-it-'))
  const packages = join(work, 'packages')
  const stateDir = join(work, 'state')
  const suffix = work.slice(-6).toLowerCase().replace(/[^a-z0-9]/g, 'x')
  const agentNames = [`margo-agent-it-${suffix}-1`, `margo-agent-it-${suffix}-2`]
  let server: ServeProcess
  let runLine = ''
  let clientId = ''
  let deploymentId = ''
  const project = () => `hello-compose-${deploymentId.slice(0, 8)}`
  const containers = () => run(['docker', 'ps', '-q', '--no-trunc', '--filter', `label=com.docker.compose.project=${project()}`]).out.split('\n').filter(Boolean)
  const envOf = (container: string, name: string) => run(['docker', 'exec', container, 'sh', '-c', `printf '%s' "$${name}"`]).out
  const reportedState = () => cli(server.dataDir, 'status', deploymentId).stdout.split('\n').find(l => l.startsWith(`deployment\t${deploymentId}\t`))?.split('\t')[5]
  const inspect = (name: string, format: string) => run(['docker', 'inspect', '-f', format, name]).out.trim()
  /** Starts an agent container with the enroll line, its name replaced, and a mounted config file. */
  const startAgentContainer = (name: string) => {
    const line = runLine
      .replace(`--name ${agentNames[0]} `, `--name ${name} `)
      .replace(' --network host ', ` --network host -v ${join(work, 'agent.yaml')}:/etc/margo/agent.yaml:ro `)
    const started = run(['sh', '-c', line])
    if (started.code !== 0) throw new Error(`docker run failed:\n${started.out}`)
    return started.out.trim()
  }

  beforeAll(async () => {
    let t = performance.now()
    if (requested) {
      const setup = run(['sh', SETUP])
      if (setup.code !== 0) throw new Error(`setup-docker.sh failed:\n${setup.out}`)
    }
    ensureBinary()
    timings.setupMs = Math.round(performance.now() - t)
    t = performance.now()
    const built = run(['sh', join(ROOT, 'scripts/build-agent-image.sh'), '--image', IMAGE])
    if (built.code !== 0) throw new Error(`build-agent-image.sh failed:\n${built.out}`)
    timings.imageBuildMs = Math.round(performance.now() - t)
    timings.imageBytes = Number(inspect(IMAGE, '{{.Size}}'))

    const port = freeLoopbackPort()
    const prepared = run(['sh', join(EXAMPLE, 'prepare.sh')], {HELLO_COMPOSE_PORT: String(port), HELLO_COMPOSE_DIR: packages})
    if (prepared.code !== 0) throw new Error(`prepare.sh failed:\n${prepared.out}`)
    writeFileSync(join(work, 'margo.yaml'), readFileSync(join(EXAMPLE, 'margo.yaml'), 'utf8').replace('127.0.0.1:8780', `127.0.0.1:${port}`))

    server = await startServe(['--enrollment', 'auto'])
    expect(cli(server.dataDir, 'app', 'publish', join(work, 'margo.yaml')).stdout).toBe(`${APP}\t1.0\tcreated\n`)

    const enroll = cli(server.dataDir, 'device', 'enroll-command', '--container', '--labels', 'site=plant-7', '--image', IMAGE, '--state-dir', stateDir, '--name', agentNames[0]!)
    expect(enroll.code).toBe(0)
    expect(enroll.stderr).toContain('Paste on the device as root (labels: site=plant-7;')
    runLine = enroll.stdout.trim()
    expect(runLine).toContain(`-e MARGO_CA_FINGERPRINT=sha256:`)
    // Settings from a mounted file; the server and the pinned CA come from the line's environment.
    writeFileSync(join(work, 'agent.yaml'), 'pollingIntervalRate: 1s\nlogFormat: json\n')
    mkdirSync(stateDir, {recursive: true})
    t = performance.now()
    startAgentContainer(agentNames[0]!)
    // Onboarded (vouched for by the join token in the line), capabilities reported, with the token's labels.
    clientId = await eventually('the device to onboard with its labels and report capabilities', () => {
      const devices = cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string, capabilities: unknown, labels?: Record<string, string>}[]>()
      return devices[0]?.capabilities && devices[0].labels?.site === 'plant-7' ? devices[0].clientId : undefined
    }, 60_000)
    timings.onboardMs = Math.round(performance.now() - t)
  }, 300_000)

  afterAll(async () => {
    for (const name of agentNames) run(['docker', 'rm', '-f', name])
    if (deploymentId) for (const c of run(['docker', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${project()}`]).out.split('\n').filter(Boolean)) run(['docker', 'rm', '-f', c])
    await server?.stop().catch(() => 0)
    const pidFile = join(packages, 'httpd.pid')
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim())
      if (pid > 0 && run(['grep', '-q', 'httpd', `/proc/${pid}/cmdline`]).code === 0) process.kill(pid, 'SIGTERM')
    }
    rmSync(work, {recursive: true, force: true})
    console.log('agent container integration timings:', JSON.stringify(timings))
  })

  const deploy = (greeting: string) => {
    const r = cli(server.dataDir, 'deploy', APP, '--device', clientId, '--set', `greeting=${greeting}`, '--wait', '--timeout', '120s')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const target = r.stdout.split('\n').find(l => l.startsWith(`target\t${clientId}\t`))!.split('\t')
    return {deploymentId: target[2]!, action: target[3]}
  }

  test('the image runs margo agent with a health check; the agent reports healthy once it has polled', async () => {
    expect(inspect(agentNames[0]!, '{{json .Config.Entrypoint}}')).toBe('["margo","agent"]')
    expect(inspect(agentNames[0]!, '{{json .Config.Healthcheck.Test}}')).toBe('["CMD","margo","agent","status","--healthy"]')
    const healthy = await eventually('margo agent status --healthy to pass in the container', () => {
      const r = run(['docker', 'exec', agentNames[0]!, 'margo', 'agent', 'status', '--healthy'])
      return r.code === 0 ? r.out : undefined
    }, 30_000)
    expect(healthy).toStartWith('healthy: last successful poll')
  }, 60_000)

  test('the image carries helm for the helm.v3 profile, on the PATH the driver searches', () => {
    // The pinned version scripts/fetch-helm.sh verified when it took helm out of the npm package.
    const pinned = readFileSync(join(ROOT, 'scripts/fetch-helm.sh'), 'utf8').match(/^HELM_VERSION="([^"]+)"$/m)?.[1]
    expect(pinned).toMatch(/^v\d+\.\d+\.\d+$/)
    const version = run(['docker', 'run', '--rm', '--network', 'none', '--entrypoint', 'helm', IMAGE, 'version'])
    expect(version.code).toBe(0)
    expect(version.out).toContain(`Version:"${pinned}"`)
    expect(inspect(IMAGE, '{{json .Config.Env}}')).toContain('PATH=/usr/local/bin:')
  }, 60_000)

  test('deploy: the workload runs on the host engine, its compose files at the same path on the host', () => {
    const t = performance.now()
    const created = deploy('Servus')
    timings.deployMs = Math.round(performance.now() - t)
    expect(created.action).toBe('create')
    deploymentId = created.deploymentId
    const ids = containers()
    expect(ids).toHaveLength(1)
    expect(envOf(ids[0]!, 'GREETING')).toBe('Servus')
    // Compose ran inside the agent container; the directory it recorded exists on the host.
    const workingDir = inspect(ids[0]!, '{{index .Config.Labels "com.docker.compose.project.working_dir"}}')
    expect(workingDir.startsWith(`${stateDir}/`)).toBe(true)
    expect(existsSync(join(workingDir, 'compose.yaml'))).toBe(true)
  }, 180_000)

  test('update: the same deployment, the new greeting', () => {
    expect(deploy('Moin')).toEqual({deploymentId, action: 'update'})
    const ids = containers()
    expect(ids).toHaveLength(1)
    expect(envOf(ids[0]!, 'GREETING')).toBe('Moin')
  }, 180_000)

  test('replacing the agent container: SIGTERM stops it cleanly, the workload keeps running, the new one is the same device and deploys nothing twice', async () => {
    const workload = containers()[0]!
    let t = performance.now()
    expect(run(['docker', 'stop', '-t', '20', agentNames[0]!]).code).toBe(0)
    timings.stopMs = Math.round(performance.now() - t)
    expect(inspect(agentNames[0]!, '{{.State.ExitCode}}')).toBe('0')
    expect(run(['docker', 'logs', agentNames[0]!]).out).toContain('"agent.stopped"')
    expect(run(['docker', 'rm', agentNames[0]!]).code).toBe(0)
    expect(containers()).toEqual([workload])

    const replacedAt = new Date().toISOString()
    t = performance.now()
    startAgentContainer(agentNames[1]!)
    // Two successful polls after the replacement: the new agent has looked at the desired state.
    await eventually('the new agent to poll', () => {
      const r = run(['docker', 'exec', agentNames[1]!, 'margo', 'agent', 'status', '--json'])
      const s = r.code === 0 ? (JSON.parse(r.out) as {clientId: string, lastSync: {at: string} | null, deployments: {state: string}[]}) : undefined
      return s?.lastSync && s.lastSync.at > replacedAt && s.deployments[0]?.state === 'installed' ? s : undefined
    }, 60_000)
    timings.replaceMs = Math.round(performance.now() - t)
    await Bun.sleep(2500)
    const status = JSON.parse(run(['docker', 'exec', agentNames[1]!, 'margo', 'agent', 'status', '--json']).out) as {clientId: string, deployments: unknown[]}
    expect(status.clientId).toBe(clientId)
    expect(status.deployments).toHaveLength(1)
    const devices = cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string}[]>()
    expect(devices.map(d => d.clientId)).toEqual([clientId])
    const log = run(['docker', 'logs', agentNames[1]!]).out
    expect(log).not.toContain('"onboarding')
    expect(log).not.toContain('"compose.up"')
    expect(containers()).toEqual([workload])
    expect(reportedState()).toBe('installed')
  }, 180_000)

  test('undeploy through the new agent container: removed, the workload is gone', async () => {
    const r = cli(server.dataDir, 'undeploy', deploymentId)
    expect(r.stdout).toBe(`${deploymentId}\tabsent\n`)
    await eventually('the device to report removed', () => (reportedState() === 'removed' ? true : undefined), 120_000)
    expect(containers()).toEqual([])
  }, 180_000)
})
