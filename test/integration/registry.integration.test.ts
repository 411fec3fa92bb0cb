import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Subprocess} from 'bun'
import {OciClient} from '../../src/oci/client.ts'
import type {RegistryView, SyncResult} from '../../src/server/registries/types.ts'
import {getAppVersionSource} from '../../src/server/store/registries-repo.ts'
import {MULTI_PROFILE} from '../unit/catalog/fixtures.ts'
import {createHarness, HELLO_WORLD, type Harness} from '../server/harness.ts'

/**
 * `margo app push` and registry sync against a real OCI registry: Debian's docker-registry
 * (the CNCF distribution server), started here on a free 127.0.0.1 port with its storage in a
 * temp dir. test/integration/setup-registry.sh installs it (and htpasswd) when run as root.
 */
const ROOT = join(import.meta.dir, '../..')
const REGISTRY_BIN = '/usr/bin/docker-registry'
const SETUP = join(import.meta.dir, 'setup-registry.sh')

function run(argv: string[], env: Record<string, string> = {}): {code: number, stdout: string, stderr: string} {
  try {
    const r = Bun.spawnSync(argv, {cwd: ROOT, stdout: 'pipe', stderr: 'pipe', env: {...process.env as Record<string, string>, NO_COLOR: '1', ...env}})
    return {code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString()}
  } catch (e) {
    return {code: 127, stdout: '', stderr: (e as Error).message}
  }
}

function ensureInstalled(): string | undefined {
  if (existsSync(REGISTRY_BIN)) return undefined
  if (process.getuid?.() !== 0) return `${REGISTRY_BIN} is missing and installing it needs root — run: sudo sh test/integration/setup-registry.sh`
  const setup = run(['sh', SETUP])
  return existsSync(REGISTRY_BIN) ? undefined : `${REGISTRY_BIN} is missing and could not be installed (setup-registry.sh: ${setup.stderr.trim().split('\n').pop()})`
}

const skipReason = ensureInstalled()
if (skipReason) console.log(`registry integration tests skipped: ${skipReason}`)
const hasOpenssl = !skipReason && run(['sh', '-c', 'command -v openssl']).code === 0
const hasHtpasswd = !skipReason && run(['sh', '-c', 'command -v htpasswd']).code === 0
if (!skipReason && !hasHtpasswd) console.log('registry basic-auth test skipped: htpasswd (apache2-utils) is not installed — run: sh test/integration/setup-registry.sh')

async function freePort(): Promise<number> {
  const s = Bun.listen({hostname: '127.0.0.1', port: 0, socket: {data() {}}})
  const port = s.port
  s.stop(true)
  return port
}

interface RunningRegistry {
  url: string
  host: string
  proc: Subprocess
  stop(): Promise<void>
}

async function startRegistry(dir: string, htpasswd?: string, tls?: {cert: string, key: string}): Promise<RunningRegistry> {
  const port = await freePort()
  const storage = join(dir, 'storage')
  mkdirSync(storage, {recursive: true})
  const config = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    ...(tls ? ['  tls:', `    certificate: ${tls.cert}`, `    key: ${tls.key}`] : []),
    ...(htpasswd ? ['auth:', '  htpasswd:', '    realm: margo-test', `    path: ${htpasswd}`] : []),
    '',
  ].join('\n')
  writeFileSync(join(dir, 'config.yml'), config)
  const proc = Bun.spawn([REGISTRY_BIN, 'serve', join(dir, 'config.yml')], {stdin: 'ignore', stdout: 'ignore', stderr: 'pipe'})
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`
  const ca = tls ? readFileSync(tls.cert, 'utf8') : undefined
  const deadline = Date.now() + 15000
  for (;;) {
    try {
      const res = await fetch(`${url}/v2/`, ca ? {tls: {ca}} as RequestInit : {})
      if (res.status === 200 || res.status === 401) break
    } catch { /* not listening yet */ }
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill()
      throw new Error(`docker-registry did not start: ${await new Response(proc.stderr).text()}`)
    }
    await Bun.sleep(100)
  }
  return {
    url, host: `127.0.0.1:${port}`, proc,
    async stop() { proc.kill('SIGTERM'); await proc.exited },
  }
}

/** `margo app push` run from source. */
const margo = (...args: string[]) => run([process.execPath, join(ROOT, 'src/main.ts'), ...args])

const HELLO = readFileSync(HELLO_WORLD, 'utf8')
const json = async <T = any>(res: Response | Promise<Response>) => (await res).json() as Promise<T>

describe.skipIf(!!skipReason)('a real OCI registry (docker-registry)', () => {
  const work = mkdtempSync(join(tmpdir(), 'margo-registry-it-'))
  let anon: RunningRegistry
  let h: Harness
  const digitron = join(work, 'digitron')
  const hello = join(work, 'hello-world')

  beforeAll(async () => {
    anon = await startRegistry(join(work, 'anon'))
    h = await createHarness()
    for (const [path, text] of Object.entries({
      'margo.yaml': MULTI_PROFILE,
      'resources/description.md': '# Digitron\n',
      'resources/digitron-orchestrator.png': 'PNG fake',
      'resources/license.pdf': '%PDF-1.4 fake',
      'resources/release-notes.md': '## 1.2.1\n',
    })) {
      mkdirSync(join(digitron, path, '..'), {recursive: true})
      writeFileSync(join(digitron, path), text)
    }
    mkdirSync(hello, {recursive: true})
    writeFileSync(join(hello, 'margo.yaml'), HELLO)
  })
  afterAll(async () => {
    await anon?.stop()
    h?.close()
    rmSync(work, {recursive: true, force: true})
  })

  test('margo app push: the Margo layout, readable by any OCI client', async () => {
    const r = margo('app', 'push', digitron, `${anon.host}/margo/digitron:1.2.1`, '--plain-http', '--json')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const pushed = JSON.parse(r.stdout)
    expect(pushed).toMatchObject({repository: 'margo/digitron', tag: '1.2.1', uploaded: 6, existing: 0})

    const res = await fetch(`${anon.url}/v2/margo/digitron/manifests/1.2.1`, {headers: {accept: 'application/vnd.oci.image.manifest.v1+json'}})
    expect(res.headers.get('docker-content-digest')).toBe(pushed.digest)
    const manifest = await res.json() as any
    expect(manifest.artifactType).toBe('application/vnd.margo.app.v1+json')
    expect(manifest.config).toMatchObject({mediaType: 'application/vnd.oci.empty.v1+json', size: 2})
    expect(manifest.layers[0]).toMatchObject({mediaType: 'application/vnd.margo.app.description.v1+yaml', annotations: {'org.opencontainers.image.title': 'margo.yaml'}})
    expect(manifest.layers.slice(1).map((l: any) => l.annotations['org.margo.app.resource'])).toEqual([
      'metadata.catalog.application.descriptionFile', 'metadata.catalog.application.icon',
      'metadata.catalog.application.licenseFile', 'metadata.catalog.application.releaseNotes',
    ])
    const description = await fetch(`${anon.url}/v2/margo/digitron/blobs/${manifest.layers[0].digest}`)
    expect(await description.text()).toBe(MULTI_PROFILE)

    // pushing again uploads nothing new
    const again = JSON.parse(margo('app', 'push', digitron, `${anon.host}/margo/digitron:1.2.1`, '--plain-http', '--json').stdout)
    expect(again).toMatchObject({uploaded: 0, existing: 6, digest: pushed.digest})
  })

  test('margo app push refuses a tag that is not metadata.version, before sending anything', () => {
    const r = margo('app', 'push', hello, `${anon.host}/margo/hello-world:latest`, '--plain-http')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('metadata.version "1.0"')
  })

  test('sync: every repository from the registry catalog, every tag; added, then unchanged; conflicts and bad tags recorded', async () => {
    expect(margo('app', 'push', hello, `${anon.host}/margo/hello-world:1.0`, '--plain-http').code).toBe(0)
    const add = await h.operator('POST', '/registries', {name: 'local', kind: 'oci', url: anon.url})
    expect(add.status).toBe(201)

    const first = await json<SyncResult>(h.operator('POST', '/registries/local/sync'))
    expect(first.errors).toEqual([])
    expect(first.versions.map(v => [v.location, v.status])).toEqual([
      ['margo/digitron:1.2.1', 'added'],
      ['margo/hello-world:1.0', 'added'],
    ])
    expect(getAppVersionSource(h.store, 'com-northstartida-digitron-orchestrator', '1.2.1')).toBe('registry:local')
    const app = await json(h.operator('GET', '/apps/com-northstartida-digitron-orchestrator'))
    expect(app.description.metadata.catalog.application.icon).toBe('resources/digitron-orchestrator.png')

    const second = await json<SyncResult>(h.operator('POST', '/registries/local/sync'))
    expect(second.versions.map(v => v.status)).toEqual(['unchanged', 'unchanged'])

    // The registry lets a tag move; the catalog does not: the same version with another description is a conflict.
    writeFileSync(join(hello, 'margo.yaml'), HELLO.replace('Says hello.', 'Says hello, changed.'))
    expect(margo('app', 'push', hello, `${anon.host}/margo/hello-world:1.0`, '--plain-http').code).toBe(0)
    // And a tag that is not the version is refused at sync.
    const client = new OciClient({url: anon.url})
    const m = await client.getManifest('margo/digitron', '1.2.1')
    await client.putManifest('margo/digitron', 'stable', m.bytes, m.mediaType)

    const third = await json<SyncResult>(h.operator('POST', '/registries/local/sync'))
    expect(Object.fromEntries(third.versions.map(v => [v.location, v.status]))).toEqual({
      'margo/digitron:1.2.1': 'unchanged',
      'margo/digitron:stable': 'invalid',
      'margo/hello-world:1.0': 'conflict',
    })
    expect(h.store.getAppVersion('com-northstartida-hello-world', '1.0')!.descriptionYaml).toBe(HELLO)
    writeFileSync(join(hello, 'margo.yaml'), HELLO)
  })

  test.skipIf(!hasOpenssl)('HTTPS by default: a private CA is refused unless given with --ca-file', async () => {
    const dir = join(work, 'tls')
    mkdirSync(dir, {recursive: true})
    const cert = join(dir, 'cert.pem')
    const key = join(dir, 'key.pem')
    const made = run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
    if (made.code !== 0) throw new Error(`openssl failed: ${made.stderr}`)
    const secure = await startRegistry(dir, undefined, {cert, key})
    try {
      const untrusted = margo('app', 'push', hello, `${secure.host}/margo/hello-world:1.0`)
      expect(untrusted.code).toBe(5)
      expect(untrusted.stderr).toContain('--ca-file')
      const trusted = margo('app', 'push', hello, `${secure.host}/margo/hello-world:1.0`, '--ca-file', cert, '--json')
      expect(trusted.stderr).toBe('')
      expect(JSON.parse(trusted.stdout)).toMatchObject({registry: secure.url, tag: '1.0'})
    } finally {
      await secure.stop()
    }
  })

  describe.skipIf(!hasHtpasswd)('with basic auth (htpasswd, bcrypt)', () => {
    let locked: RunningRegistry
    beforeAll(async () => {
      const dir = join(work, 'locked')
      mkdirSync(dir, {recursive: true})
      const htpasswd = join(dir, 'htpasswd')
      const r = run(['htpasswd', '-Bbc', htpasswd, 'ci', 'pa55word-x'])
      if (r.code !== 0) throw new Error(`htpasswd failed: ${r.stderr}`)
      locked = await startRegistry(dir, htpasswd)
    })
    afterAll(async () => { await locked?.stop() })

    test('push without credentials is refused (exit 4); with them it works', () => {
      const anonymous = margo('app', 'push', hello, `${locked.host}/margo/hello-world:1.0`, '--plain-http')
      expect(anonymous.code).toBe(4)
      expect(anonymous.stderr).toMatch(/^error: .* requires authentication .*401/)
      const wrong = margo('app', 'push', hello, `${locked.host}/margo/hello-world:1.0`, '--plain-http', '--username', 'ci', '--password', 'nope')
      expect(wrong.code).toBe(4)
      expect(wrong.stderr).toContain('refused the credentials')
      expect(wrong.stderr).not.toContain('nope')
      const ok = run([process.execPath, join(ROOT, 'src/main.ts'), 'app', 'push', hello, `${locked.host}/margo/hello-world:1.0`, '--plain-http', '--username', 'ci'], {MARGO_REGISTRY_PASSWORD: 'pa55word-x'})
      expect(ok.stderr).toBe('')
      expect(ok.code).toBe(0)
    })

    test('sync with stored credentials adds the version; without, the error says why', async () => {
      await h.operator('POST', '/registries', {name: 'locked', kind: 'oci', url: locked.url, repositories: ['margo/hello-world'], username: 'ci', password: 'pa55word-x'})
      const r = await json<SyncResult>(h.operator('POST', '/registries/locked/sync'))
      expect(r.errors).toEqual([])
      expect(r.versions.map(v => [v.location, v.status])).toEqual([['margo/hello-world:1.0', 'unchanged']])
      const shown = await h.operator('GET', '/registries/locked')
      expect(await shown.text()).not.toContain('pa55word-x')

      await h.operator('POST', '/registries', {name: 'locked-anon', kind: 'oci', url: locked.url, repositories: ['margo/hello-world']})
      const refused = await json<SyncResult>(h.operator('POST', '/registries/locked-anon/sync'))
      expect(refused.errors).toEqual([expect.stringContaining('requires authentication')])
      const view = await json<RegistryView>(h.operator('GET', '/registries/locked-anon'))
      expect(view.lastSync?.errors.length).toBe(1)
    })
  })
})
