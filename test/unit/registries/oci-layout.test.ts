import {describe, expect, test} from 'bun:test'
import {parseChallenge} from '../../../src/oci/auth.ts'
import {buildArtifact, readManifest} from '../../../src/oci/layout.ts'
import {EMPTY_CONFIG, MARGO_APP_ARTIFACT, MARGO_DESCRIPTION_LAYER, resourceMediaType} from '../../../src/oci/media-types.ts'
import {hostOf, isLoopbackHost, parseReference} from '../../../src/oci/reference.ts'
import {sha256Digest} from '../../../src/margo/digest.ts'

const enc = (s: string) => new TextEncoder().encode(s)
const icon = enc('PNG fake')
const notes = enc('## 1.2\n')

function artifact() {
  return buildArtifact({
    descriptionFile: 'margo.yaml',
    descriptionSource: 'kind: ApplicationDescription\n',
    version: '1.2',
    references: {icon: 'resources/icon.png', releaseNotes: 'resources/notes.md'},
    resources: [{path: 'resources/icon.png', bytes: icon}, {path: 'resources/notes.md', bytes: notes}, {path: 'resources/unused.txt', bytes: enc('x')}],
  })
}

describe('the package layout in an OCI registry', () => {
  test('manifest: margo artifactType, the empty config, the description layer titled, one layer per referenced resource', () => {
    const {manifest, manifestBytes, manifestDigest, blobs} = artifact()
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json')
    expect(manifest.artifactType).toBe(MARGO_APP_ARTIFACT)
    expect(manifest.config).toEqual({...EMPTY_CONFIG})
    expect(manifest.config.digest).toBe(sha256Digest('{}'))
    expect(manifest.layers).toEqual([
      {mediaType: MARGO_DESCRIPTION_LAYER, digest: sha256Digest('kind: ApplicationDescription\n'), size: 29, annotations: {'org.opencontainers.image.title': 'margo.yaml'}},
      {mediaType: 'application/vnd.margo.app.icon.v1+png', digest: sha256Digest(icon), size: icon.length,
        annotations: {'org.margo.app.resource': 'metadata.catalog.application.icon', 'org.opencontainers.image.title': 'resources/icon.png'}},
      {mediaType: 'application/vnd.margo.app.releaseNotes.v1+md', digest: sha256Digest(notes), size: notes.length,
        annotations: {'org.margo.app.resource': 'metadata.catalog.application.releaseNotes', 'org.opencontainers.image.title': 'resources/notes.md'}},
    ])
    expect(manifestDigest).toBe(sha256Digest(manifestBytes))
    // config + description + two resources; the unreferenced file is not uploaded
    expect(blobs.map(b => b.digest)).toEqual([EMPTY_CONFIG.digest, ...manifest.layers.map(l => l.digest)])
  })

  test('building is deterministic', () => {
    expect(artifact().manifestDigest).toBe(artifact().manifestDigest)
  })

  test('a referenced resource missing from the package is refused', () => {
    expect(() => buildArtifact({descriptionFile: 'margo.yaml', descriptionSource: 'x', version: '1', references: {icon: 'icon.png'}, resources: []})).toThrow(/icon/)
  })

  test('reading gives back the description layer and the resources by key', () => {
    const r = readManifest(artifact().manifestBytes)
    if (r.kind !== 'margo-app') throw new Error(r.reason)
    expect(r.descriptionFile).toBe('margo.yaml')
    expect(r.resources.map(x => [x.key, x.title])).toEqual([['icon', 'resources/icon.png'], ['releaseNotes', 'resources/notes.md']])
  })

  test('layers with plain media types are resources when annotated (as in the older examples)', () => {
    const m = {...artifact().manifest}
    m.layers = m.layers.map((l, i) => (i === 0 ? l : {...l, mediaType: 'text/markdown'}))
    const r = readManifest(enc(JSON.stringify(m)))
    expect(r.kind === 'margo-app' && r.resources.map(x => x.key)).toEqual(['icon', 'releaseNotes'])
  })

  test('container images and indexes are not packages: skipped, not errors', () => {
    const image = {schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest('c'), size: 1}, layers: []}
    expect(readManifest(enc(JSON.stringify(image))).kind).toBe('other')
    expect(readManifest(enc(JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: []}))).kind).toBe('other')
  })

  test('a margo manifest without exactly one description layer is invalid', () => {
    const m = artifact().manifest
    const none = {...m, layers: m.layers.slice(1)}
    const two = {...m, layers: [m.layers[0], ...m.layers]}
    expect(readManifest(enc(JSON.stringify(none)))).toMatchObject({kind: 'invalid', reason: expect.stringContaining('0 layers')})
    expect(readManifest(enc(JSON.stringify(two)))).toMatchObject({kind: 'invalid', reason: expect.stringContaining('2 layers')})
  })

  test('a layer with a malformed digest is invalid', () => {
    const m = artifact().manifest
    const bad = {...m, layers: [{...m.layers[0], digest: 'md5:abc'}]}
    expect(readManifest(enc(JSON.stringify(bad)))).toMatchObject({kind: 'invalid', reason: expect.stringContaining('digest')})
  })

  test('the resource format is the file extension', () => {
    expect(resourceMediaType('licenseFile', 'resources/LICENSE.PDF')).toBe('application/vnd.margo.app.licenseFile.v1+pdf')
    expect(resourceMediaType('descriptionFile', 'resources/README')).toBe('application/vnd.margo.app.descriptionFile.v1+octet-stream')
  })
})

describe('references', () => {
  test('registry, repository and tag', () => {
    expect(parseReference('127.0.0.1:5000/margo/hello-world:1.0')).toEqual({ok: true, value: {registry: '127.0.0.1:5000', repository: 'margo/hello-world', tag: '1.0'}})
    expect(parseReference('[::1]:5000/a:v1')).toEqual({ok: true, value: {registry: '[::1]:5000', repository: 'a', tag: 'v1'}})
  })
  test.each([
    ['127.0.0.1:5000/margo/hello', /no tag/],
    ['hello:1.0', /no registry/],
    ['https://r.example/a:1', /scheme/],
    ['r.example/Upper:1', /repository name/],
    ['r.example/a@sha256:00', /digest/],
    ['r.example/a:-bad', /not a valid tag/],
  ])('%s is refused', (input, message) => {
    const r = parseReference(input)
    expect(r.ok).toBe(false)
    expect(!r.ok && r.message).toMatch(message)
  })
  test('loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h)).toBe(true)
    for (const h of ['10.0.0.1', 'example.com', '128.0.0.1', '::2']) expect(isLoopbackHost(h)).toBe(false)
    expect(hostOf('[::1]:5000')).toBe('::1')
    expect(hostOf('r.example:443')).toBe('r.example')
  })
})

describe('auth challenges', () => {
  test('a bearer challenge with quoted parameters, commas inside quotes', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer', params: {realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push'},
    })
  })
  test('basic, and nothing', () => {
    expect(parseChallenge('Basic realm="basic-realm"')).toEqual({scheme: 'basic', params: {realm: 'basic-realm'}})
    expect(parseChallenge(null)).toBeUndefined()
  })
})
