import {afterAll, afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import type {OperatorApiContext} from '../../src/server/operator-api/context.ts'
import {REGISTRY_OPENAPI_PATHS} from '../../src/server/operator-api/registries.ts'
import {startRegistryScheduler} from '../../src/server/registries/scheduler.ts'
import {syncRegistry} from '../../src/server/registries/sync.ts'
import type {RegistryView, SyncResult} from '../../src/server/registries/types.ts'
import {getAppVersionSource, insertRegistry} from '../../src/server/store/registries-repo.ts'
import {OciClient} from '../../src/oci/client.ts'
import {pushPackage} from '../../src/oci/package.ts'
import {parseApplicationDescription} from '../../src/margo/package/description.ts'
import {createLogger, silentLogger} from '../../src/util/log.ts'
import {MINIMAL_G1, MULTI_PROFILE} from '../unit/catalog/fixtures.ts'
import {createGitRegistry, hasGit} from '../unit/registries/git-fixture.ts'
import {startFakeRegistry} from '../unit/registries/fake-registry.ts'
import {createHarness, HELLO_WORLD, TOKEN, type Harness} from './harness.ts'

const HELLO = readFileSync(HELLO_WORLD, 'utf8')
const DIGITRON_RESOURCES = {
  'apps/digitron/resources/description.md': '# Digitron\n',
  'apps/digitron/resources/digitron-orchestrator.png': 'PNG fake',
  'apps/digitron/resources/license.pdf': '%PDF-1.4 fake',
  'apps/digitron/resources/release-notes.md': '## 1.2.1\n',
}

let h: Harness
beforeEach(async () => { h = await createHarness() })
afterEach(() => h.close())

const json = async <T = any>(res: Response | Promise<Response>) => (await res).json() as Promise<T>
const byLocation = (s: SyncResult) => Object.fromEntries(s.versions.map(v => [v.location, v]))

describe('registry routes', () => {
  test('every route needs the operator token', async () => {
    for (const [method, path] of [['GET', '/registries'], ['POST', '/registries'], ['GET', '/registries/a'], ['DELETE', '/registries/a'], ['POST', '/registries/a/sync']] as const) {
      const res = await h.app.handle(new Request(`https://wfm.test/operator/v1${path}`, {method}))
      expect(res.status).toBe(401)
    }
  })

  test('add, list, show, refuse a duplicate, remove', async () => {
    const created = await h.operator('POST', '/registries', {name: 'apps', kind: 'oci', url: 'registry.example:5000', repositories: ['margo/hello'], username: 'ci', password: 'pa55word-x'})
    expect(created.status).toBe(201)
    const view = await json<RegistryView>(created)
    expect(view).toMatchObject({
      name: 'apps', kind: 'oci', url: 'https://registry.example:5000', repositories: ['margo/hello'],
      hasCredentials: true, credentialsKind: 'basic', intervalSeconds: 3600, lastSyncAt: null, lastSync: null,
    })

    const list = await json<{registries: RegistryView[]}>(h.operator('GET', '/registries'))
    expect(list.registries.map(r => r.name)).toEqual(['apps'])
    const shown = await h.operator('GET', '/registries/apps')
    const text = await shown.text()
    expect(shown.status).toBe(200)
    // the secret is stored, never returned
    expect(text).not.toContain('pa55word-x')
    expect(JSON.stringify(list)).not.toContain('pa55word-x')
    expect(JSON.stringify(list)).not.toContain('"ci"')

    const dup = await h.operator('POST', '/registries', {name: 'apps', kind: 'git', url: '/srv/other.git'})
    expect(dup.status).toBe(409)
    expect((await json(dup)).error.code).toBe('conflict')

    const removed = await h.operator('DELETE', '/registries/apps')
    expect(removed.status).toBe(200)
    expect((await h.operator('GET', '/registries/apps')).status).toBe(404)
    const gone = await h.operator('DELETE', '/registries/apps')
    expect(gone.status).toBe(404)
    expect((await json(gone)).error).toMatchObject({code: 'registry_not_found', message: expect.stringContaining('margo registry list')})
    expect((await h.operator('POST', '/registries/apps/sync')).status).toBe(404)
  })

  test('an invalid registry: 422 with every problem and its path', async () => {
    const res = await h.operator('POST', '/registries', {name: 'Not OK', kind: 'svn', intervalSeconds: 0, token: 't', username: 'u'})
    expect(res.status).toBe(422)
    const body = await json(res)
    expect(body.error.code).toBe('invalid_registry')
    expect(body.error.details.map((d: {path: string}) => d.path).sort()).toEqual(['intervalSeconds', 'kind', 'name', 'token', 'url'])
  })

  test('malformed JSON is a 400, never a 500', async () => {
    const res = await h.operator('POST', '/registries', '{"name": ', {'content-type': 'application/json'})
    expect(res.status).toBe(400)
  })

  test('the OpenAPI path objects name every route', () => {
    expect(Object.keys(REGISTRY_OPENAPI_PATHS)).toEqual(['/registries', '/registries/{name}', '/registries/{name}/sync'])
    expect(Object.keys(REGISTRY_OPENAPI_PATHS['/registries/{name}'])).toEqual(['get', 'delete'])
  })
})

describe.skipIf(!hasGit)('git registries', () => {
  const repo = hasGit ? createGitRegistry() : undefined
  afterAll(() => repo?.remove())

  test('every folder with a description is a package: added once, then unchanged; conflicts are recorded, never applied', async () => {
    repo!.commit({
      'README.md': '# apps\n',
      'apps/hello-world/margo.yaml': HELLO,
      'apps/digitron/margo.yaml': MULTI_PROFILE,
      ...DIGITRON_RESOURCES,
      'apps/broken/margo.yaml': MINIMAL_G1.replace('id: com-northstartida-hello-world', 'id: Broken_Id'),
      'docs/notes.yaml': 'just: yaml\n',
    })
    const add = await h.operator('POST', '/registries', {name: 'git-apps', kind: 'git', url: repo!.url, ref: 'main'})
    expect(add.status).toBe(201)

    const first = await json<SyncResult>(h.operator('POST', '/registries/git-apps/sync'))
    expect(first.errors).toEqual([])
    expect(byLocation(first)).toEqual({
      'apps/broken': {appId: null, version: null, status: 'invalid', error: expect.stringContaining('metadata.id'), location: 'apps/broken'},
      'apps/digitron': {appId: 'com-northstartida-digitron-orchestrator', version: '1.2.1', status: 'added', location: 'apps/digitron'},
      'apps/hello-world': {appId: 'com-northstartida-hello-world', version: '1.0', status: 'added', location: 'apps/hello-world'},
    })
    expect(first).toMatchObject({registry: 'git-apps', appsFound: 2, versionsAdded: 2})

    const app = await json(h.operator('GET', '/apps/com-northstartida-digitron-orchestrator'))
    expect(app.latestVersion).toBe('1.2.1')
    expect(getAppVersionSource(h.store, 'com-northstartida-digitron-orchestrator', '1.2.1')).toBe('registry:git-apps')
    // the stored package carries the resources
    expect(h.store.db.query('SELECT length(package_bytes) AS n FROM app_versions WHERE app_id = ?').get('com-northstartida-digitron-orchestrator')).toMatchObject({n: expect.any(Number)})

    const second = await json<SyncResult>(h.operator('POST', '/registries/git-apps/sync'))
    expect(second.versionsAdded).toBe(0)
    expect(byLocation(second)['apps/hello-world']!.status).toBe('unchanged')

    // same version, other content: a conflict, the catalog keeps the first one
    repo!.commit({'apps/hello-world/margo.yaml': HELLO.replace('Says hello.', 'Says hello loudly.')})
    const third = await json<SyncResult>(h.operator('POST', '/registries/git-apps/sync'))
    expect(byLocation(third)['apps/hello-world']).toMatchObject({status: 'conflict', error: expect.stringContaining('immutable')})
    expect(h.store.getAppVersion('com-northstartida-hello-world', '1.0')!.descriptionYaml).toBe(HELLO)

    // the stored last sync is the one GET shows
    const shown = await json<RegistryView>(h.operator('GET', '/registries/git-apps'))
    expect(shown.lastSync).toEqual(third)
    expect(shown.lastSyncAt).toBe(third.finishedAt)
    // the list leaves the per-version detail out
    const listed = await json<{registries: RegistryView[]}>(h.operator('GET', '/registries'))
    expect(listed.registries[0]!.lastSync).toMatchObject({versionsAdded: 0, versions: []})
  })

  test('an upload and a registry may not overwrite each other either', async () => {
    const up = await h.operator('POST', '/apps', MULTI_PROFILE.replace('tagline: Northstar', 'tagline: Uploaded, Northstar'), {'content-type': 'application/yaml'})
    expect(up.status).toBe(201)
    repo!.commit({'apps/digitron/margo.yaml': MULTI_PROFILE})
    await h.operator('POST', '/registries', {name: 'g', kind: 'git', url: repo!.url})
    const r = await json<SyncResult>(h.operator('POST', '/registries/g/sync'))
    expect(byLocation(r)['apps/digitron']!.status).toBe('conflict')
    expect(getAppVersionSource(h.store, 'com-northstartida-digitron-orchestrator', '1.2.1')).not.toBe('registry:g')
  })

  test('the ref picks the branch', async () => {
    repo!.commit({'apps/hello-world/margo.yaml': HELLO.replace('version: "1.0"', 'version: "1.5-beta"')}, 'beta')
    await h.operator('POST', '/registries', {name: 'beta', kind: 'git', url: repo!.url, ref: 'beta'})
    const r = await json<SyncResult>(h.operator('POST', '/registries/beta/sync'))
    expect(r.versions.filter(v => v.status === 'added').map(v => v.version)).toContain('1.5-beta')
  })

  test('a clone that fails is a recorded error, not a failed request', async () => {
    await h.operator('POST', '/registries', {name: 'gone', kind: 'git', url: '/nonexistent/apps.git'})
    const res = await h.operator('POST', '/registries/gone/sync')
    expect(res.status).toBe(200)
    const r = await json<SyncResult>(res)
    expect(r.versions).toEqual([])
    expect(r.errors).toEqual([expect.stringContaining('git clone of file:///nonexistent/apps.git failed')])
  })

  test('two syncs of one registry never run at once: the second joins the first', async () => {
    await h.operator('POST', '/registries', {name: 'same', kind: 'git', url: repo!.url})
    const [a, b] = await Promise.all([json<SyncResult>(h.operator('POST', '/registries/same/sync')), json<SyncResult>(h.operator('POST', '/registries/same/sync'))])
    expect(a).toEqual(b)
    const c = await json<SyncResult>(h.operator('POST', '/registries/same/sync'))
    expect(c.startedAt >= a.finishedAt).toBe(true)
  })

  test('the scheduler syncs each registry every interval', async () => {
    const local = createGitRegistry()
    try {
      local.commit({'hello/margo.yaml': HELLO})
      insertRegistry(h.store, {name: 'fast', kind: 'git', url: local.url, ref: null, repositories: [], credentials: null, intervalSeconds: 1, createdAt: new Date().toISOString()})
      const ctx = {store: h.store, events: h.events, log: silentLogger, now: () => new Date()} as unknown as OperatorApiContext
      const stop = startRegistryScheduler(ctx, {tickMs: 50})
      try {
        await until(() => h.store.getAppVersion('com-northstartida-hello-world', '1.0'))
        local.commit({'hello/margo.yaml': HELLO.replace('version: "1.0"', 'version: "1.1"')})
        // picked up by a later run, without anyone asking
        await until(() => h.store.getAppVersion('com-northstartida-hello-world', '1.1'))
      } finally {
        stop()
      }
      expect(getAppVersionSource(h.store, 'com-northstartida-hello-world', '1.1')).toBe('registry:fast')
    } finally {
      local.remove()
    }
  })
})

describe('OCI registries', () => {
  test('tags become versions; a tag that is not metadata.version is invalid; credentials stay server-side and are used', async () => {
    const reg = startFakeRegistry({tokenAuth: {username: 'ci', password: 'pa55word-x'}})
    try {
      const client = new OciClient({url: reg.url, credentials: {kind: 'basic', username: 'ci', password: 'pa55word-x'}})
      const hello = parseApplicationDescription(HELLO)
      if (!hello.ok) throw new Error('fixture')
      const pkg = {description: hello.value, descriptionSource: HELLO, descriptionFile: 'margo.yaml', resources: []}
      await pushPackage(client, 'margo/hello-world', '1.0', pkg)
      // a second tag on the same manifest: "latest" is not the version
      const m = await client.getManifest('margo/hello-world', '1.0')
      await client.putManifest('margo/hello-world', 'latest', m.bytes, m.mediaType)

      const lines: string[] = []
      const logged = await createHarness()
      try {
        // a harness whose log is captured, to check that the secret never reaches it
        const ctx = {store: logged.store, events: logged.events, log: createLogger({format: 'json', level: 'debug', write: l => lines.push(l)}), now: () => new Date()}
        const {createRegistry} = await import('../../src/server/registries/service.ts')
        createRegistry(ctx as unknown as OperatorApiContext, {name: 'oci', kind: 'oci', url: reg.url, repositories: ['margo/hello-world'], username: 'ci', password: 'pa55word-x'})
        const result = await syncRegistry(ctx, 'oci')!
        expect(result.errors).toEqual([])
        expect(byLocation(result)).toEqual({
          'margo/hello-world:1.0': {appId: 'com-northstartida-hello-world', version: '1.0', status: 'added', location: 'margo/hello-world:1.0'},
          'margo/hello-world:latest': {appId: 'com-northstartida-hello-world', version: '1.0', status: 'invalid', error: expect.stringContaining('tag "latest" differs'), location: 'margo/hello-world:latest'},
        })
        expect(logged.store.getAppVersion('com-northstartida-hello-world', '1.0')!.descriptionYaml).toBe(HELLO)
        expect(lines.length).toBeGreaterThan(0)
        expect(lines.join('\n')).not.toContain('pa55word-x')
      } finally {
        logged.close()
      }
    } finally {
      reg.stop()
    }
  })

  test('refused credentials stop the sync with one clear error', async () => {
    const reg = startFakeRegistry({tokenAuth: {username: 'ci', password: 'right'}})
    try {
      await h.operator('POST', '/registries', {name: 'oci', kind: 'oci', url: reg.url, repositories: ['a', 'b'], username: 'ci', password: 'wrong'})
      const r = await json<SyncResult>(h.operator('POST', '/registries/oci/sync'))
      expect(r.errors).toEqual([expect.stringContaining('refused')])
      expect(r.versions).toEqual([])
    } finally {
      reg.stop()
    }
  })

  test('without repositories, the registry catalog names them', async () => {
    const reg = startFakeRegistry()
    try {
      await h.operator('POST', '/registries', {name: 'oci', kind: 'oci', url: reg.url})
      const r = await json<SyncResult>(h.operator('POST', '/registries/oci/sync'))
      // the fake has no /v2/_catalog: the error says what to do
      expect(r.errors).toEqual([expect.stringContaining('name the repositories')])
    } finally {
      reg.stop()
    }
  })
})

async function until<T>(check: () => T | null | undefined, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = check()
    if (v) return v
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await Bun.sleep(50)
  }
}


describe.skipIf(!hasGit)('the registry commands against a server on loopback', () => {
  const MAIN = new URL('../../src/main.ts', import.meta.url).pathname
  const margo = async (server: string, ...args: string[]) => {
    const proc = Bun.spawn([process.execPath, MAIN, ...args, '--server', server, '--token', TOKEN], {
      stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1', MARGO_DATA_DIR: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent'},
    })
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    return {stdout, stderr, code}
  }

  test('add (with its first sync), list, sync, show, remove; exit codes follow the outcome', async () => {
    const repo = createGitRegistry()
    const server = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: r => h.app.handle(r)})
    const url = `http://127.0.0.1:${server.port}`
    try {
      repo.commit({'hello/margo.yaml': HELLO})
      const add = await margo(url, 'registry', 'add', 'apps', repo.url, '--json')
      expect(add.stderr).toBe('')
      expect(add.code).toBe(0)
      expect(JSON.parse(add.stdout)).toMatchObject({registry: {name: 'apps', kind: 'git'}, sync: {versionsAdded: 1}})

      const list = await margo(url, 'registry', 'list')
      expect(list.stdout.split('\t').slice(0, 3)).toEqual(['apps', 'git', repo.url])

      const sync = await margo(url, 'registry', 'sync', 'apps')
      expect(sync.code).toBe(0)
      expect(sync.stdout).toBe('unchanged\tcom-northstartida-hello-world\t1.0\thello\t\n')

      repo.commit({'hello/margo.yaml': HELLO.replace('Says hello.', 'Changed.')})
      const conflict = await margo(url, 'registry', 'sync', 'apps', '--json')
      expect(conflict.code).toBe(1)
      expect(JSON.parse(conflict.stdout).versions[0].status).toBe('conflict')

      const bad = await margo(url, 'registry', 'add', 'Bad Name', 'http://registry.example')
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain('  name: ')
      expect(bad.stderr).toContain('  url: plain http is only allowed')

      expect((await margo(url, 'registry', 'remove', 'apps')).code).toBe(0)
      const missing = await margo(url, 'registry', 'show', 'apps')
      expect(missing.code).toBe(3)
      expect(missing.stderr).toBe('error: registry apps not found — run: margo registry list\n')
    } finally {
      server.stop(true)
      repo.remove()
    }
  }, 30_000)
})
