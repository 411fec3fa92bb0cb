import {describe, expect, test} from 'bun:test'
import {dueRegistries} from '../../../src/server/registries/scheduler.ts'
import {parseRegistryInput} from '../../../src/server/registries/validate.ts'
import {addRegistryRequest} from '../../../src/client/registries.ts'

const errorsOf = (body: Record<string, unknown>) => {
  const r = parseRegistryInput(body)
  if (r.ok) throw new Error('expected errors')
  return r.errors
}

describe('registry input', () => {
  test('an OCI registry: host:port becomes an https URL; defaults filled in', () => {
    expect(parseRegistryInput({name: 'apps', kind: 'oci', url: 'registry.example:5000', repositories: ['margo/hello']})).toEqual({
      ok: true, value: {name: 'apps', kind: 'oci', url: 'https://registry.example:5000', repositories: ['margo/hello'], intervalSeconds: 3600},
    })
  })

  test('credentials: basic or bearer', () => {
    const basic = parseRegistryInput({name: 'a', kind: 'oci', url: 'https://r.example', username: 'ci', password: 's3cret'})
    expect(basic.ok && basic.value.credentials).toEqual({kind: 'basic', username: 'ci', password: 's3cret'})
    const bearer = parseRegistryInput({name: 'a', kind: 'git', url: 'https://git.example/apps.git', token: 'tkn', ref: 'main'})
    expect(bearer.ok && bearer.value).toMatchObject({credentials: {kind: 'bearer', token: 'tkn'}, ref: 'main'})
  })

  test('a git registry: absolute paths become file:// URLs', () => {
    const r = parseRegistryInput({name: 'local', kind: 'git', url: '/srv/apps.git'})
    expect(r.ok && r.value.url).toBe('file:///srv/apps.git')
  })

  test('plain http only on this machine', () => {
    expect(parseRegistryInput({name: 'a', kind: 'oci', url: 'http://127.0.0.1:5000'}).ok).toBe(true)
    expect(errorsOf({name: 'a', kind: 'oci', url: 'http://registry.example'})).toEqual([{path: 'url', message: expect.stringContaining('only allowed')}])
    expect(errorsOf({name: 'a', kind: 'git', url: 'http://git.example/a.git'})).toEqual([{path: 'url', message: expect.stringContaining('only allowed')}])
  })

  test('every problem with its path', () => {
    const errors = errorsOf({name: 'Bad Name', kind: 'svn', url: '', repositories: ['OK', 'ok', 'ok'], username: 'u', intervalSeconds: 1, color: 'red'})
    expect(errors.map(e => e.path).sort()).toEqual(['color', 'intervalSeconds', 'kind', 'name', 'password', 'repositories[0]', 'repositories[2]', 'url'])
  })

  test('kind-specific fields are refused on the other kind', () => {
    expect(errorsOf({name: 'a', kind: 'oci', url: 'r.example', ref: 'main'}).map(e => e.path)).toEqual(['ref'])
    expect(errorsOf({name: 'a', kind: 'git', url: 'https://g.example/a.git', repositories: ['x']}).map(e => e.path)).toEqual(['repositories'])
  })

  test('a ref cannot become a git option; URLs cannot carry credentials', () => {
    expect(errorsOf({name: 'a', kind: 'git', url: 'https://g.example/a.git', ref: '--upload-pack=x'}).map(e => e.path)).toEqual(['ref'])
    expect(errorsOf({name: 'a', kind: 'git', url: 'https://u:p@g.example/a.git'})).toEqual([{path: 'url', message: expect.stringContaining('credentials')}])
    expect(errorsOf({name: 'a', kind: 'oci', url: 'https://u:p@r.example'})).toEqual([{path: 'url', message: expect.stringContaining('credentials')}])
  })

  test('token and username together are refused', () => {
    expect(errorsOf({name: 'a', kind: 'oci', url: 'r.example', username: 'u', password: 'p', token: 't'}).map(e => e.path)).toEqual(['token'])
  })
})

describe('the CLI request for registry add', () => {
  test('the kind follows the URL unless given', () => {
    expect(addRegistryRequest('a', 'https://g.example/apps.git', {}).kind).toBe('git')
    expect(addRegistryRequest('a', '/srv/apps', {}).kind).toBe('git')
    expect(addRegistryRequest('a', 'registry.example:5000', {}).kind).toBe('oci')
    expect(addRegistryRequest('a', 'https://g.example/apps', {kind: 'git'}).kind).toBe('git')
  })
  test('flags map to the request; half a credential pair is a usage error', () => {
    expect(addRegistryRequest('a', 'r.example', {repository: ['x', 'y'], 'registry-token': 't', interval: 60})).toEqual({
      name: 'a', kind: 'oci', url: 'r.example', repositories: ['x', 'y'], token: 't', intervalSeconds: 60,
    })
    expect(() => addRegistryRequest('a', 'r.example', {username: 'u'})).toThrow(/go together/)
  })
})

describe('the sync schedule', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  const reg = (name: string, lastSyncAt: string | null, intervalSeconds = 60) => ({name, intervalSeconds, lastSyncAt})

  test('never synced: due at once', () => {
    expect(dueRegistries([reg('a', null)], new Set(), new Map(), t0)).toEqual(['a'])
  })
  test('due one interval after the last stored sync, not before', () => {
    const r = [reg('a', '2026-01-01T00:00:00Z')]
    expect(dueRegistries(r, new Set(), new Map(), t0 + 59_999)).toEqual([])
    expect(dueRegistries(r, new Set(), new Map(), t0 + 60_000)).toEqual(['a'])
  })
  test('a sync started in this process counts, even before it has finished', () => {
    expect(dueRegistries([reg('a', null)], new Set(), new Map([['a', t0]]), t0 + 30_000)).toEqual([])
  })
  test('never while running', () => {
    expect(dueRegistries([reg('a', null), reg('b', null)], new Set(['a']), new Map(), t0)).toEqual(['b'])
  })
})
