import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createComposeDriver} from '../../src/agent/drivers/compose-driver.ts'
import type {DriverContext} from '../../src/agent/types.ts'
import {buildTar} from '../unit/drivers/archive-builder.ts'
import {DEPLOYMENT_ID, deployment} from '../unit/drivers/helpers.ts'

/**
 * The compose driver against a real engine: docker.io + dockerd without a bridge, docker-compose
 * (or a v2 plugin) and a busybox image imported locally (test/integration/setup-docker.sh).
 * Runs when MARGO_INTEGRATION=1 (then the setup script runs first, as root) or when
 * `docker info` already answers. Workloads use network_mode none only.
 */
const IMAGE = process.env.MARGO_TEST_IMAGE ?? 'margo.local/busybox:1'
const SETUP = join(import.meta.dir, 'setup-docker.sh')

function run(argv: string[]): {code: number, out: string} {
  try {
    const r = Bun.spawnSync(argv, {stdout: 'pipe', stderr: 'pipe', env: process.env as Record<string, string>})
    return {code: r.exitCode, out: `${r.stdout.toString()}${r.stderr.toString()}`}
  } catch (e) {
    return {code: 127, out: (e as Error).message}
  }
}

const requested = process.env.MARGO_INTEGRATION === '1'
const engineUp = run(['docker', 'info']).code === 0
const enabled = requested || engineUp
if (!enabled) {
  console.log('compose integration tests skipped: set MARGO_INTEGRATION=1 (installs and starts docker as root via test/integration/setup-docker.sh) or start a docker engine so `docker info` works')
}

describe.skipIf(!enabled)('compose driver with a real engine', () => {
  const timings: Record<string, number> = {}
  const root = mkdtempSync(join(tmpdir(), 'margo-compose-it-'))
  const project = `app-${DEPLOYMENT_ID.slice(0, 8)}`
  let server: ReturnType<typeof Bun.serve>
  let ctx: DriverContext
  const driver = createComposeDriver({waitPollMs: 250})
  const siteId = `SID 123 #'$x' "q" \\ end`

  const compose = [
    'services:',
    '  app:',
    `    image: ${IMAGE}`,
    '    network_mode: none',
    // A shell that exits on SIGTERM, so removal does not sit out the 10 s stop timeout.
    '    command: ["sh", "-c", "trap \'exit 0\' TERM; sleep 3600 & wait"]',
    '    stop_grace_period: 2s',
    '    environment:',
    '      SITE_ID: ${SITE_ID}',
    '',
  ].join('\n')

  beforeAll(async () => {
    if (requested) {
      const t = performance.now()
      const setup = run(['sh', SETUP])
      timings.setupMs = Math.round(performance.now() - t)
      if (setup.code !== 0) throw new Error(`setup-docker.sh failed:\n${setup.out}`)
    }
    if (run(['docker', 'image', 'inspect', IMAGE]).code !== 0) throw new Error(`image ${IMAGE} is missing; run test/integration/setup-docker.sh`)
    const pkg = await buildTar([{name: 'app/'}, {name: 'app/compose.yaml', content: compose}])
    server = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: req => (new URL(req.url).pathname === '/app.tar.gz' ? new Response(pkg) : new Response('not found', {status: 404}))})
    ctx = {
      workDir: join(root, 'work'),
      binaries: {},
      otel: {httpEndpoint: 'http://127.0.0.1:4318'},
      download: async url => new Uint8Array(await (await fetch(url)).arrayBuffer()),
      log: {info: () => {}, warn: (event, fields) => console.warn(event, fields)},
    }
  }, 180_000)

  afterAll(() => {
    server?.stop(true)
    for (const c of run(['docker', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]).out.split('\n').filter(Boolean)) run(['docker', 'rm', '-f', c])
    rmSync(root, {recursive: true, force: true})
    console.log('compose integration timings (ms):', JSON.stringify(timings))
  })

  const d = () => deployment('compose', [{name: 'app', properties: {packageLocation: `http://127.0.0.1:${server.port}/app.tar.gz`, timeout: '2m'}}], {
    siteId: {value: siteId, targets: [{pointer: 'SITE_ID', components: ['app']}]},
  })
  const containers = () => run(['docker', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]).out.split('\n').filter(Boolean)

  test('CL-25/CL-26/CL-36: deploys, passes the parameter and the OpenTelemetry endpoint into the container', async () => {
    const t = performance.now()
    const results = await driver.apply(d(), ctx)
    timings.applyMs = Math.round(performance.now() - t)
    expect(results).toEqual([{name: 'app', state: 'installed'}])
    const ids = containers()
    expect(ids).toHaveLength(1)
    // busybox-static has no printenv applet; the shell prints the variable exactly.
    const printenv = (name: string) => run(['docker', 'exec', ids[0]!, 'sh', '-c', `printf '%s\\n' "$${name}"`]).out
    expect(printenv('SITE_ID')).toBe(`${siteId}\n`)
    expect(printenv('HTTP_OTEL_EXPORTER_OTLP_ENDPOINT')).toBe('http://127.0.0.1:4318\n')
    expect(run(['docker', 'inspect', '-f', '{{.HostConfig.NetworkMode}}', ids[0]!]).out.trim()).toBe('none')
  }, 180_000)

  test('status reports installed', async () => {
    const t = performance.now()
    expect(await driver.status(d(), ctx)).toEqual([{name: 'app', state: 'installed'}])
    timings.statusMs = Math.round(performance.now() - t)
  }, 60_000)

  test('applying again keeps one container and reports installed', async () => {
    const t = performance.now()
    expect(await driver.apply(d(), ctx)).toEqual([{name: 'app', state: 'installed'}])
    timings.reapplyMs = Math.round(performance.now() - t)
    expect(containers()).toHaveLength(1)
  }, 180_000)

  test('removal takes the containers away', async () => {
    const t = performance.now()
    expect(await driver.remove(d(), ctx)).toEqual([{name: 'app', state: 'removed'}])
    timings.removeMs = Math.round(performance.now() - t)
    expect(containers()).toEqual([])
    expect(await driver.status(d(), ctx)).toEqual([{name: 'app', state: 'removed'}])
  }, 180_000)
})
