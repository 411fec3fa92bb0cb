import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {UsageError, ValidationError} from '../../../src/util/errors.ts'
import {OperatorClient} from '../../../src/client/operator-client.ts'
import {loadPublishPayload, publishApp} from '../../../src/client/publish.ts'
import {type FakeOperator, TOKEN, startFakeOperator} from './fake-operator.ts'

const DESCRIPTION = `apiVersion: margo.org/v1-alpha1
kind: ApplicationDescription
metadata:
  id: com-northstartida-hello-world
  name: Hello World
  version: "2.0"
  catalog:
    organization: [{name: Northstar Industrial Applications, site: "http://northstar-ida.com"}]
deploymentProfiles:
  - type: compose
    id: hello-compose
    components:
      - name: hello
        properties: {packageLocation: "https://example.com/compose.tar.gz"}
`

let dir: string
let fake: FakeOperator
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'margo-publish-'))
  fake = startFakeOperator()
})
afterAll(() => {
  fake.stop()
  rmSync(dir, {recursive: true, force: true})
})

describe('loadPublishPayload', () => {
  test('a margo.yaml goes up as application/yaml, byte for byte', async () => {
    writeFileSync(join(dir, 'margo.yaml'), DESCRIPTION)
    const p = await loadPublishPayload(join(dir, 'margo.yaml'))
    expect(p.contentType).toBe('application/yaml')
    expect(p.source).toBe('description')
    expect(new TextDecoder().decode(p.bytes)).toBe(DESCRIPTION)
  })

  test('gzip content goes up as application/gzip whatever its name', async () => {
    const gz = Bun.gzipSync(new TextEncoder().encode('x'))
    writeFileSync(join(dir, 'pkg.bin'), gz)
    const p = await loadPublishPayload(join(dir, 'pkg.bin'))
    expect(p.contentType).toBe('application/gzip')
    expect(p.source).toBe('archive')
    expect(p.bytes).toEqual(gz)
  })

  test('a .tar.gz that is not gzip is refused before upload', async () => {
    writeFileSync(join(dir, 'fake.tar.gz'), 'not gzip')
    await expect(loadPublishPayload(join(dir, 'fake.tar.gz'))).rejects.toThrow(/is named like a package archive but is not gzip data/)
  })

  test('a missing path is a usage error that names the accepted inputs', async () => {
    const err = await loadPublishPayload(join(dir, 'nope')).catch(e => e)
    expect(err).toBeInstanceOf(UsageError)
    expect(err.message).toContain('pass a margo.yaml, a package .tar.gz or a package directory')
  })

  test('a package directory is checked and packed into a gzip archive', async () => {
    const pkg = join(dir, 'pkg')
    mkdirSync(pkg)
    writeFileSync(join(pkg, 'margo.yaml'), DESCRIPTION)
    const p = await loadPublishPayload(pkg)
    expect(p.source).toBe('directory')
    expect(p.contentType).toBe('application/gzip')
    expect([p.bytes[0], p.bytes[1]]).toEqual([0x1f, 0x8b])
  })

  test('an invalid package directory lists its problems as a ValidationError', async () => {
    const empty = join(dir, 'empty-pkg')
    mkdirSync(empty)
    const err = await loadPublishPayload(empty).catch(e => e)
    expect(err).toBeInstanceOf(ValidationError)
    expect(err.details.length).toBeGreaterThan(0)
    expect(err.message).toContain(`package ${empty} is invalid`)
  })
})

describe('publishApp', () => {
  test('uploads and reports created/unchanged from the status code', async () => {
    const client = new OperatorClient({baseUrl: fake.operatorUrl, token: TOKEN, origin: {server: 't', token: 't'}})
    writeFileSync(join(dir, 'margo.yaml'), DESCRIPTION)
    const r = await publishApp(client, join(dir, 'margo.yaml'))
    expect(r.created).toBe(true)
    expect(r.source).toBe('description')
    expect(fake.requests.at(-1)!.headers['content-type']).toBe('application/yaml')

    writeFileSync(join(dir, 'same.yaml'), DESCRIPTION.replace('"2.0"', '"1.1"'))
    expect((await publishApp(client, join(dir, 'same.yaml'))).created).toBe(false)
  })
})
