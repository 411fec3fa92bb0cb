import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, test} from 'bun:test'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {createMessage, generateKey, readPrivateKey, sign} from 'openpgp'
import {parse} from 'yaml'
import {createComposeDriver} from '../../../src/agent/drivers/compose-driver.ts'
import {buildTar, COMPOSE_YAML} from './archive-builder.ts'
import {DEPLOYMENT_ID, deployment, FAKE_DOCKER, FAKE_DOCKER_COMPOSE, recorder, Sandbox} from './helpers.ts'

/** A package server on loopback: path → bytes. */
const files = new Map<string, Uint8Array>()
let server: ReturnType<typeof Bun.serve>
let base: string
let publicKey: string
let signatureOf: (data: Uint8Array) => Promise<Uint8Array>

beforeAll(async () => {
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(req) {
      const body = files.get(new URL(req.url).pathname)
      return body ? new Response(body) : new Response('not found', {status: 404})
    },
  })
  base = `http://127.0.0.1:${server.port}`
  const k = await generateKey({type: 'ecc', curve: 'curve25519Legacy', userIDs: [{name: 'Signer'}], format: 'armored'})
  publicKey = k.publicKey
  const privateKey = await readPrivateKey({armoredKey: k.privateKey})
  signatureOf = async data => new TextEncoder().encode((await sign({message: await createMessage({binary: data}), signingKeys: privateKey, detached: true})) as string)
})
afterAll(() => server.stop(true))

let box: Sandbox
beforeEach(() => {
  box = new Sandbox()
  files.clear()
})
afterEach(() => box.cleanup())

const download = async (url: string) => {
  const r = await fetch(url)
  if (!r.ok) throw new Error(`HTTP ${r.status} for ${url}`)
  return new Uint8Array(await r.arrayBuffer())
}

const TWO_SERVICES = 'services:\n  web:\n    image: margo.local/busybox:1\n    environment:\n      SITE_ID: ${SITE_ID}\n  worker:\n    image: margo.local/busybox:1\n'

async function publish(path: string, compose = COMPOSE_YAML, extra: {name: string, content: string}[] = []): Promise<string> {
  files.set(path, await buildTar([{name: 'app/'}, {name: 'app/compose.yaml', content: compose}, ...extra.map(e => ({name: `app/${e.name}`, content: e.content}))]))
  return `${base}${path}`
}

const project = (component: string) => `${component}-${DEPLOYMENT_ID.slice(0, 8)}`
const dockerCalls = (b: Sandbox) => b.commands(l => l.argv[1] !== 'version' && l.argv[0] !== 'version')

describe('compose driver', () => {
  test('CL-25/CL-26: downloads, unpacks and starts the project with the exact command line; parameters reach compose', async () => {
    box.env({MARGO_FAKE_ECHO_ENV: 'SITE_ID'})
    const d = deployment('compose', [{name: 'orchestrator', properties: {packageLocation: await publish('/app.tar.gz', TWO_SERVICES, [{name: '.env', content: 'LOG_LEVEL=info\n'}])}}], {
      siteId: {value: "SID 123 #'$x'", targets: [{pointer: 'ENV.SITE_ID', components: ['orchestrator']}]},
    })
    const {events, listener} = recorder()
    const results = await createComposeDriver().apply(d, box.ctx({download}), listener)
    expect(results).toEqual([{name: 'orchestrator', state: 'installed'}])
    expect(events.map(e => e.state)).toEqual(['installing', 'installed'])
    const dir = join(box.workDir, 'orchestrator')
    const composeFile = join(dir, 'package', 'app', 'compose.yaml')
    expect(box.commands()).toEqual([
      ['docker', 'compose', 'version'],
      ['docker', 'compose', '-p', project('orchestrator'), '-f', composeFile, '--env-file', join(dir, 'margo.env'), 'up', '-d', '--remove-orphans', '--wait'],
    ])
    const up = box.calls()[1]!
    expect(up.cwd).toBe(join(dir, 'package', 'app'))
    expect(up.env).toEqual({SITE_ID: "SID 123 #'$x'"})
    const envFile = readFileSync(join(dir, 'margo.env'), 'utf8')
    expect(envFile).toStartWith('LOG_LEVEL=info\n')
    expect(envFile).toContain('SITE_ID="SID 123 #\'$$x\'"')
    expect(readFileSync(composeFile, 'utf8')).toBe(TWO_SERVICES)
  })

  test('CL-25: components run strictly in order; wait: false drops --wait; a failure leaves later components pending', async () => {
    const loc = await publish('/p.tar.gz')
    const d = deployment('compose', [
      {name: 'first', properties: {packageLocation: loc, wait: false}},
      {name: 'second', properties: {packageLocation: loc}},
      {name: 'third', properties: {packageLocation: loc}},
    ])
    box.env({MARGO_FAKE_DOCKER_FAIL: `up:${project('second')}`})
    const {events, listener} = recorder()
    const results = await createComposeDriver().apply(d, box.ctx({download}), listener)
    expect(results.map(r => r.state)).toEqual(['installed', 'failed', 'pending'])
    expect(results[1]!.error).toEqual({code: 'COMPOSE_UP_FAILED', message: expect.stringContaining('fake failure starting project second-a3e2f5dc')})
    expect(events.map(e => `${e.name}:${e.state}`)).toEqual(['first:installing', 'first:installed', 'second:installing', 'second:failed'])
    const ups = dockerCalls(box)
    expect(ups.map(c => c[3])).toEqual([project('first'), project('second')])
    expect(ups[0]!.at(-1)).toBe('--remove-orphans')
    expect(ups[1]!.at(-1)).toBe('--wait')
  })

  test('CL-25: with wait, a slow project is up before the next one starts', async () => {
    box.env({MARGO_FAKE_DELAY: '0.3'})
    const loc = await publish('/p.tar.gz')
    const d = deployment('compose', [{name: 'a', properties: {packageLocation: loc}}, {name: 'b', properties: {packageLocation: loc}}])
    const marks: string[] = []
    let t0 = 0
    await createComposeDriver().apply(d, box.ctx({download}), r => {
      if (!t0) t0 = Date.now()
      marks.push(`${r.name}:${r.state}`)
    })
    expect(marks).toEqual(['a:installing', 'a:installed', 'b:installing', 'b:installed'])
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550)
  })

  test('CL-25: a project that outlives its timeout is stopped and reported as COMPOSE_TIMEOUT', async () => {
    box.env({MARGO_FAKE_DELAY: '20'})
    const d = deployment('compose', [{name: 'slow', properties: {packageLocation: await publish('/p.tar.gz'), timeout: '1s'}}])
    const started = Date.now()
    const results = await createComposeDriver().apply(d, box.ctx({download}))
    expect(results[0]!.error?.code).toBe('COMPOSE_TIMEOUT')
    expect(Date.now() - started).toBeLessThan(5000)
  })

  test('CL-36: an override file gives every service the OpenTelemetry variables', async () => {
    const d = deployment('compose', [{name: 'app', properties: {packageLocation: await publish('/p.tar.gz', TWO_SERVICES)}}])
    const otel = {httpEndpoint: 'http://127.0.0.1:4318', protocol: 'http/protobuf' as const}
    box.env({MARGO_FAKE_ECHO_ENV: 'HTTP_OTEL_EXPORTER_OTLP_ENDPOINT,OTEL_EXPORTER_OTLP_PROTOCOL'})
    await createComposeDriver().apply(d, box.ctx({download, otel}))
    const dir = join(box.workDir, 'app')
    const up = dockerCalls(box)[0]!
    expect(up.slice(3, 10)).toEqual([project('app'), '-f', join(dir, 'package', 'app', 'compose.yaml'), '-f', join(dir, 'margo.override.yaml'), '--env-file', join(dir, 'margo.env')])
    const override = parse(readFileSync(join(dir, 'margo.override.yaml'), 'utf8')) as {services: Record<string, {environment: Record<string, string>}>}
    expect(Object.keys(override.services)).toEqual(['web', 'worker'])
    expect(override.services.worker!.environment).toEqual({HTTP_OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf'})
    expect(box.calls().at(-1)!.env).toEqual({HTTP_OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf'})
    expect(readFileSync(join(dir, 'margo.env'), 'utf8')).toContain('HTTP_OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318')
  })

  test('A17: a raw compose.yaml at packageLocation is used as is', async () => {
    files.set('/docker-compose.yml', new TextEncoder().encode(COMPOSE_YAML))
    const d = deployment('compose', [{name: 'app', properties: {packageLocation: `${base}/docker-compose.yml`}}])
    expect((await createComposeDriver().apply(d, box.ctx({download})))[0]!.state).toBe('installed')
    expect(dockerCalls(box)[0]).toContain(join(box.workDir, 'app', 'package', 'compose.yaml'))
  })

  test('an unreachable package is PACKAGE_DOWNLOAD_FAILED; compose never runs', async () => {
    const d = deployment('compose', [{name: 'app', properties: {packageLocation: `${base}/missing.tar.gz`}}])
    const results = await createComposeDriver().apply(d, box.ctx({download}))
    expect(results[0]!.error).toEqual({code: 'PACKAGE_DOWNLOAD_FAILED', message: expect.stringContaining('HTTP 404')})
    expect(dockerCalls(box)).toEqual([])
  })

  test('CL-37: a malicious archive is PACKAGE_INVALID, nothing is extracted and the previous package stays', async () => {
    const d = deployment('compose', [{name: 'app', properties: {packageLocation: await publish('/p.tar.gz')}}])
    const driver = createComposeDriver()
    await driver.apply(d, box.ctx({download}))
    files.set('/p.tar.gz', await buildTar([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: 'app/x', type: 'symlink', linkname: '/etc/passwd'}]))
    const results = await driver.apply(d, box.ctx({download}))
    expect(results[0]!.error?.code).toBe('PACKAGE_INVALID')
    expect(existsSync(join(box.workDir, 'app', 'package', 'app', 'x'))).toBe(false)
    expect(readFileSync(join(box.workDir, 'app', 'package', 'app', 'compose.yaml'), 'utf8')).toBe(COMPOSE_YAML)
    expect(dockerCalls(box)).toHaveLength(1)
  })

  test('A17: with keyLocation the detached signature must verify before anything is unpacked', async () => {
    const loc = await publish('/signed.tar.gz')
    files.set('/key.asc', new TextEncoder().encode(publicKey))
    const d = deployment('compose', [{name: 'app', properties: {packageLocation: loc, keyLocation: `${base}/key.asc`}}])
    const driver = createComposeDriver()

    expect((await driver.apply(d, box.ctx({download})))[0]!.error?.code).toBe('PACKAGE_SIGNATURE_MISSING')

    files.set('/signed.tar.gz.asc', await signatureOf(new TextEncoder().encode('something else')))
    expect((await driver.apply(d, box.ctx({download})))[0]!.error?.code).toBe('PACKAGE_SIGNATURE_INVALID')
    expect(dockerCalls(box)).toEqual([])

    files.set('/signed.tar.gz.asc', await signatureOf(files.get('/signed.tar.gz')!))
    expect((await driver.apply(d, box.ctx({download})))[0]!.state).toBe('installed')
    expect(box.logs.some(l => l.event === 'compose.signature_verified')).toBe(true)
  })

  test('the host change is announced before compose up starts; a refused or missing package never announces it', async () => {
    const announced: number[] = []
    const changingHost = () => announced.push(dockerCalls(box).length)
    const ok = deployment('compose', [{name: 'app', properties: {packageLocation: await publish('/ok.tar.gz')}}])
    expect((await createComposeDriver().apply(ok, box.ctx({download, changingHost})))[0]!.state).toBe('installed')
    expect(announced).toEqual([0])

    announced.length = 0
    const missing = deployment('compose', [{name: 'app', properties: {packageLocation: `${base}/missing.tar.gz`}}])
    files.set('/evil.tar.gz', await buildTar([{name: 'app/compose.yaml', content: COMPOSE_YAML}, {name: 'app/x', type: 'symlink', linkname: '/etc/passwd'}]))
    const evil = deployment('compose', [{name: 'app', properties: {packageLocation: `${base}/evil.tar.gz`}}])
    files.set('/key.asc', new TextEncoder().encode(publicKey))
    const unsigned = deployment('compose', [{name: 'app', properties: {packageLocation: `${base}/ok.tar.gz`, keyLocation: `${base}/key.asc`}}])
    for (const d of [missing, evil, unsigned]) expect((await createComposeDriver().apply(d, box.ctx({download, changingHost})))[0]!.state).toBe('failed')
    expect(await createComposeDriver({path: '/nonexistent'}).apply(ok, box.ctx({binaries: {}, download, changingHost}))).toMatchObject([{state: 'failed'}])
    expect(announced).toEqual([])
  })

  test('a component without packageLocation (OCI-only) fails with PACKAGE_LOCATION_MISSING', async () => {
    const d = deployment('compose', [{name: 'app', properties: {repository: 'oci://registry.example/app', revision: '1.0.0'}}])
    expect((await createComposeDriver().apply(d, box.ctx({download})))[0]!.error?.code).toBe('PACKAGE_LOCATION_MISSING')
  })

  test('a pointer that is not a variable name fails with COMPOSE_PARAMETER_INVALID before downloading', async () => {
    const d = deployment('compose', [{name: 'app', properties: {packageLocation: `${base}/never`}}], {p: {value: 'x', targets: [{pointer: 'not.a.var', components: ['app']}]}})
    expect((await createComposeDriver().apply(d, box.ctx({download})))[0]!.error?.code).toBe('COMPOSE_PARAMETER_INVALID')
  })

  test('no docker and no docker-compose: DOCKER_NOT_FOUND, never an exception', async () => {
    const d = deployment('compose', [{name: 'a', properties: {packageLocation: `${base}/p`}}, {name: 'b', properties: {packageLocation: `${base}/p`}}])
    const results = await createComposeDriver({path: '/nonexistent'}).apply(d, box.ctx({binaries: {}, download}))
    expect(results).toEqual([{name: 'a', state: 'failed', error: {code: 'DOCKER_NOT_FOUND', message: expect.any(String)}}, {name: 'b', state: 'pending'}])
    expect((await createComposeDriver({path: '/nonexistent'}).status(d, box.ctx({binaries: {}})))[0]!.error?.code).toBe('DOCKER_NOT_FOUND')
  })

  test('docker without a compose plugin and no docker-compose: COMPOSE_NOT_FOUND', async () => {
    box.env({MARGO_FAKE_COMPOSE_MISSING: '1'})
    const d = deployment('compose', [{name: 'a', properties: {packageLocation: `${base}/p`}}])
    expect((await createComposeDriver({path: '/nonexistent'}).apply(d, box.ctx({download})))[0]!.error?.code).toBe('COMPOSE_NOT_FOUND')
  })

  test('status maps ps output to states; removal runs down in reverse order and clears the work directory', async () => {
    const loc = await publish('/p.tar.gz', TWO_SERVICES)
    const d = deployment('compose', [{name: 'a', properties: {packageLocation: loc}}, {name: 'b', properties: {packageLocation: loc}}])
    const driver = createComposeDriver()
    expect(await driver.status(d, box.ctx())).toEqual([{name: 'a', state: 'removed'}, {name: 'b', state: 'removed'}])
    await driver.apply(d, box.ctx({download}))
    expect(await driver.status(d, box.ctx())).toEqual([{name: 'a', state: 'installed'}, {name: 'b', state: 'installed'}])
    box.env({MARGO_FAKE_PS_STATE: 'exited', MARGO_FAKE_PS_EXIT_CODE: '2'})
    expect((await driver.status(d, box.ctx()))[0]).toEqual({name: 'a', state: 'failed', error: {code: 'COMPOSE_CONTAINER_FAILED', message: `${project('a')}-web-1 exited with code 2; ${project('a')}-worker-1 exited with code 2`}})
    expect(box.commands().at(-1)!.slice(-4)).toEqual(['ps', '--all', '--format', 'json'])

    const {events, listener} = recorder()
    const removed = await driver.remove(d, box.ctx(), listener)
    expect(removed).toEqual([{name: 'a', state: 'removed'}, {name: 'b', state: 'removed'}])
    expect(events.map(e => `${e.name}:${e.state}`)).toEqual(['b:removing', 'b:removed', 'a:removing', 'a:removed'])
    const downs = box.commands(l => l.argv.includes('down'))
    expect(downs).toEqual([
      ['docker', 'compose', '-p', project('b'), '-f', join(box.workDir, 'b', 'package', 'app', 'compose.yaml'), '--env-file', join(box.workDir, 'b', 'margo.env'), 'down', '--remove-orphans'],
      ['docker', 'compose', '-p', project('a'), '-f', join(box.workDir, 'a', 'package', 'app', 'compose.yaml'), '--env-file', join(box.workDir, 'a', 'margo.env'), 'down', '--remove-orphans'],
    ])
    expect(existsSync(join(box.workDir, 'a'))).toBe(false)
  })

  test('removal without a previous apply still runs down (stub compose file); a failing down fails only that component', async () => {
    const d = deployment('compose', [{name: 'a', properties: {packageLocation: `${base}/p`}}, {name: 'b', properties: {packageLocation: `${base}/p`}}])
    box.env({MARGO_FAKE_DOCKER_FAIL: `down:${project('b')}`})
    const results = await createComposeDriver().remove(d, box.ctx())
    expect(results[0]).toEqual({name: 'a', state: 'removed'})
    expect(results[1]).toMatchObject({name: 'b', state: 'failed', error: {code: 'COMPOSE_DOWN_FAILED'}})
    expect(box.commands(l => l.argv.includes('down'))[1]).toContain(join(box.workDir, 'a', 'stub-compose.yaml'))
  })
})

describe('compose driver with docker-compose 1.x', () => {
  test('CL-25: v1 syntax, no --wait; the driver polls ps until the containers run', async () => {
    box.env({MARGO_FAKE_COMPOSE_MISSING: '1'})
    const d = deployment('compose', [{name: 'app', properties: {packageLocation: await publish('/p.tar.gz')}}])
    const driver = createComposeDriver({path: join(FAKE_DOCKER_COMPOSE, '..'), waitPollMs: 50})
    const results = await driver.apply(d, box.ctx({download, binaries: {}}))
    expect(results).toEqual([{name: 'app', state: 'installed'}])
    const dir = join(box.workDir, 'app')
    const composeFile = join(dir, 'package', 'app', 'compose.yaml')
    expect(box.commands(l => l.tool === 'docker-compose')).toEqual([
      ['docker-compose', 'version'],
      ['docker-compose', '-p', project('app'), '-f', composeFile, '--env-file', join(dir, 'margo.env'), 'up', '-d', '--remove-orphans'],
      ['docker-compose', '-p', project('app'), '-f', composeFile, '--env-file', join(dir, 'margo.env'), 'ps'],
    ])
    expect(await driver.status(d, box.ctx({binaries: {}}))).toEqual([{name: 'app', state: 'installed'}])
  })

  test('CL-25: a container that exits non-zero while waiting fails the component', async () => {
    box.env({MARGO_FAKE_COMPOSE_VERSION: '1.29.2', MARGO_FAKE_PS_STATE: 'exited', MARGO_FAKE_PS_EXIT_CODE: '1'})
    const d = deployment('compose', [{name: 'app', properties: {packageLocation: await publish('/p.tar.gz')}}, {name: 'next', properties: {packageLocation: `${base}/p.tar.gz`}}])
    const results = await createComposeDriver({waitPollMs: 50}).apply(d, box.ctx({download, binaries: {docker: FAKE_DOCKER}}))
    expect(results[0]).toEqual({name: 'app', state: 'failed', error: {code: 'COMPOSE_CONTAINER_FAILED', message: `${project('app')}_web_1 exited with code 1`}})
    expect(results[1]).toEqual({name: 'next', state: 'pending'})
    // A docker compose plugin that reports 1.x is driven with v1 flags too.
    expect(box.commands().find(c => c.includes('up'))).not.toContain('--wait')
  })

  test('CL-25: containers that never come up hit the timeout', async () => {
    box.env({MARGO_FAKE_COMPOSE_VERSION: '1.29.2', MARGO_FAKE_PS_HEALTH: 'starting'})
    const d = deployment('compose', [{name: 'app', properties: {packageLocation: await publish('/p.tar.gz'), timeout: '1s'}}])
    const results = await createComposeDriver({waitPollMs: 100}).apply(d, box.ctx({download}))
    expect(results[0]!.error?.code).toBe('COMPOSE_TIMEOUT')
  })
})
