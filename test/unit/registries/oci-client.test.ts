import {afterEach, describe, expect, test} from 'bun:test'
import {OciClient} from '../../../src/oci/client.ts'
import {OciError} from '../../../src/oci/errors.ts'
import {pullPackage, pushPackage} from '../../../src/oci/package.ts'
import {sha256Digest} from '../../../src/margo/digest.ts'
import {readPackageFromTarGz, writePackageTarGz} from '../../../src/margo/package/package.ts'
import {MULTI_PROFILE} from '../catalog/fixtures.ts'
import {startFakeRegistry} from './fake-registry.ts'

const enc = (s: string) => new TextEncoder().encode(s)
const RESOURCES = [
  {path: 'resources/description.md', bytes: enc('# Digitron\n')},
  {path: 'resources/digitron-orchestrator.png', bytes: enc('PNG fake')},
  {path: 'resources/license.pdf', bytes: enc('%PDF-1.4 fake')},
  {path: 'resources/release-notes.md', bytes: enc('## 1.2.1\n')},
]

async function digitron() {
  const {parseApplicationDescription} = await import('../../../src/margo/package/description.ts')
  const d = parseApplicationDescription(MULTI_PROFILE)
  if (!d.ok) throw new Error('fixture invalid')
  return {description: d.value, descriptionSource: MULTI_PROFILE, descriptionFile: 'margo.yaml', resources: RESOURCES}
}

let stop: (() => void) | undefined
afterEach(() => stop?.())

async function expectOciError(p: Promise<unknown>, kind: OciError['kind']) {
  const err = await p.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(OciError)
  expect((err as OciError).kind).toBe(kind)
  return err as OciError
}

describe('OCI client against a fake registry', () => {
  test('push then pull: the package comes back byte for byte, resources included', async () => {
    const reg = startFakeRegistry()
    stop = reg.stop
    const client = new OciClient({url: reg.url})
    const pkg = await digitron()
    const pushed = await pushPackage(client, 'margo/digitron', '1.2.1', pkg)
    expect(pushed.uploaded).toBe(6) // config, description, four resources
    expect(pushed.layers.map(l => l.mediaType)).toEqual([
      'application/vnd.margo.app.description.v1+yaml',
      'application/vnd.margo.app.descriptionFile.v1+md',
      'application/vnd.margo.app.icon.v1+png',
      'application/vnd.margo.app.licenseFile.v1+pdf',
      'application/vnd.margo.app.releaseNotes.v1+md',
    ])
    const pulled = await pullPackage(client, 'margo/digitron', '1.2.1')
    if (pulled.kind !== 'margo-app' || !pulled.package.ok) throw new Error(JSON.stringify(pulled))
    expect(pulled.manifestDigest).toBe(pushed.digest)
    expect(pulled.package.descriptionSource).toBe(MULTI_PROFILE)
    expect(writePackageTarGz(pulled.package)).toEqual(writePackageTarGz(pkg))

    const again = await pushPackage(client, 'margo/digitron', '1.2.1', pkg)
    expect(again).toMatchObject({uploaded: 0, existing: 6, digest: pushed.digest})
  })

  test('the tag must equal metadata.version', async () => {
    const reg = startFakeRegistry()
    stop = reg.stop
    const err = await expectOciError(pushPackage(new OciClient({url: reg.url}), 'margo/digitron', 'latest', await digitron()), 'usage')
    expect(err.message).toContain('margo/digitron:1.2.1')
    expect(reg.requests).toEqual([])
  })

  test('token dance: 401 with a Bearer challenge, a token from the realm with the basic credentials, then the retry', async () => {
    const reg = startFakeRegistry({tokenAuth: {username: 'ci', password: 's3cret'}})
    stop = reg.stop
    const client = new OciClient({url: reg.url, credentials: {kind: 'basic', username: 'ci', password: 's3cret'}})
    await pushPackage(client, 'margo/digitron', '1.2.1', await digitron())
    expect(await client.listTags('margo/digitron')).toEqual(['1.2.1'])
    const tokenRequests = reg.requests.filter(r => r.path.startsWith('/token'))
    // one token per scope (pull for the blob checks, then push), each reused afterwards
    expect(tokenRequests.map(r => new URL(r.path, reg.url).searchParams.get('scope'))).toEqual(['repository:margo/digitron:pull', 'repository:margo/digitron:pull,push'])
    expect(tokenRequests.every(r => r.authorization === `Basic ${Buffer.from('ci:s3cret').toString('base64')}`)).toBe(true)
    expect(reg.requests.filter(r => r.authorization?.startsWith('Bearer ')).length).toBeGreaterThan(5)
  })

  test('token dance with wrong credentials is an auth error', async () => {
    const reg = startFakeRegistry({tokenAuth: {username: 'ci', password: 's3cret'}})
    stop = reg.stop
    const client = new OciClient({url: reg.url, credentials: {kind: 'basic', username: 'ci', password: 'wrong'}})
    const err = await expectOciError(client.listTags('margo/digitron'), 'auth')
    expect(err.message).not.toContain('wrong')
  })

  test('anonymous against a registry that wants a token is an auth error', async () => {
    const reg = startFakeRegistry({tokenAuth: {username: 'ci', password: 's3cret'}})
    stop = reg.stop
    await expectOciError(new OciClient({url: reg.url}).listTags('margo/digitron'), 'auth')
  })

  test('a blob that does not match its digest is refused', async () => {
    const reg = startFakeRegistry()
    stop = reg.stop
    const client = new OciClient({url: reg.url})
    const pkg = await digitron()
    await pushPackage(client, 'margo/digitron', '1.2.1', pkg)
    reg.tamper(sha256Digest(RESOURCES[1]!.bytes))
    const err = await expectOciError(pullPackage(client, 'margo/digitron', '1.2.1'), 'integrity')
    expect(err.message).toContain(sha256Digest(RESOURCES[1]!.bytes))
  })

  test('a manifest that does not match the digest the registry announces is refused', async () => {
    const reg = startFakeRegistry()
    stop = reg.stop
    const client = new OciClient({url: reg.url})
    const pushed = await pushPackage(client, 'margo/digitron', '1.2.1', await digitron())
    const fetched = await client.getManifest('margo/digitron', pushed.digest)
    expect(fetched.digest).toBe(pushed.digest)
    reg.replaceManifest('margo/digitron', pushed.digest, enc('{"schemaVersion":2}'))
    await expectOciError(client.getManifest('margo/digitron', pushed.digest), 'integrity')
  })

  test('tag lists are followed across pages', async () => {
    const reg = startFakeRegistry({pageSize: 2})
    stop = reg.stop
    const client = new OciClient({url: reg.url})
    const pkg = await digitron()
    for (const v of ['1.0', '1.1', '1.2', '2.0', '2.1']) {
      const source = MULTI_PROFILE.replace('version: 1.2.1', `version: "${v}"`)
      const re = await readPackageFromTarGz(writePackageTarGz({...pkg, descriptionSource: source}))
      if (!re.ok) throw new Error(JSON.stringify(re.errors))
      await pushPackage(client, 'margo/digitron', v, re)
    }
    expect(await client.listTags('margo/digitron')).toEqual(['1.0', '1.1', '1.2', '2.0', '2.1'])
    expect(reg.requests.filter(r => r.path.includes('/tags/list')).length).toBe(3)
  })

  test('unknown repositories are not_found; a closed port is unreachable', async () => {
    const reg = startFakeRegistry()
    stop = reg.stop
    await expectOciError(new OciClient({url: reg.url}).getManifest('nope', '1.0'), 'not_found')
    const port = new URL(reg.url).port
    reg.stop()
    stop = undefined
    await expectOciError(new OciClient({url: `http://127.0.0.1:${port}`, timeoutMs: 2000}).listTags('x'), 'unreachable')
  })

  test('plain http to a remote host and credentials in the URL are refused before any request', () => {
    expect(() => new OciClient({url: 'http://registry.example'})).toThrow(/only allowed for a registry on this machine/)
    expect(() => new OciClient({url: 'https://u:p@registry.example'})).toThrow(/credentials/)
  })
})
