import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {gunzipSync} from 'node:zlib'
import {parse} from 'yaml'
import {extract} from 'tar-stream'
import {createHarness, capabilitiesBody, HELLO_WORLD, statusBody, TestDevice, type Harness} from './harness.ts'

let h: Harness
let d: TestDevice
beforeEach(async () => {
  h = await createHarness()
  d = await TestDevice.create(h)
  await d.onboard()
  await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody()})
  expect((await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})).status).toBe(201)
})
afterEach(() => h.close())

const sha256 = (b: Uint8Array | string) => 'sha256:' + createHash('sha256').update(b).digest('hex')
const MANIFEST = '/api/v1/clients/{clientId}/deployments'

async function deploy(values: Record<string, unknown> = {}) {
  const res = await h.operator('POST', '/deployments', {appId: 'com-northstartida-hello-world', clientId: d.clientId, values})
  expect(res.status).toBe(201)
  return (await res.json()) as {deploymentId: string, digest: string}
}

async function manifest() {
  const res = await d.send('GET', MANIFEST)
  expect(res.status).toBe(200)
  const bytes = new Uint8Array(await res.arrayBuffer())
  return {res, bytes, body: JSON.parse(new TextDecoder().decode(bytes)) as {manifestVersion: number, bundle: null | {mediaType: string, digest: string, url: string, sizeBytes: number}, deployments: {deploymentId: string, digest: string, url: string, sizeBytes: number}[]}}
}

async function untar(bytes: Uint8Array): Promise<Map<string, {bytes: Buffer, type: string, mode: number, mtime: Date}>> {
  const out = new Map<string, {bytes: Buffer, type: string, mode: number, mtime: Date}>()
  const ex = extract()
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = []
      stream.on('data', (c: unknown) => chunks.push(c as Buffer))
      stream.on('end', () => { out.set(header.name, {bytes: Buffer.concat(chunks), type: header.type ?? 'file', mode: header.mode ?? 0, mtime: header.mtime ?? new Date(0)}); next() })
    })
    ex.on('finish', resolve)
    ex.on('error', reject)
  })
  ex.end(gunzipSync(bytes))
  await done
  return out
}

describe('state manifest (E5)', () => {
  test('WFM-20/22/25: manifest is served with its media type and ETag = quoted sha256 of the exact body', async () => {
    const {res, bytes} = await manifest()
    expect(res.headers.get('content-type')).toBe('application/vnd.margo.manifest.v1+json')
    expect(res.headers.get('etag')).toBe(`"${sha256(bytes)}"`)
    expect(res.headers.get('etag')).toMatch(/^"sha256:[0-9a-f]{64}"$/)
  })

  test('WFM-21: Accept absent, */* and the manifest type get the manifest; text/plain or application/json alone gets 406', async () => {
    for (const accept of [undefined, '*/*', 'application/*', 'application/vnd.margo.manifest.v1+json', 'text/plain, application/vnd.margo.manifest.v1+json;q=0.5']) {
      const res = await d.send('GET', MANIFEST, {headers: accept ? {accept} : {}})
      expect(res.status).toBe(200)
    }
    for (const accept of ['text/plain', 'application/json', 'application/vnd.margo.manifest.v1+json;q=0']) {
      const res = await d.send('GET', MANIFEST, {headers: {accept}})
      expect(res.status).toBe(406)
      expect(((await res.json()) as {type: string}).type).toEndWith('/server-cannot-generate-response')
    }
  })

  test('WFM-23: If-None-Match with the current ETag (or *) gets 304 with no body; a stale one gets 200', async () => {
    const {res} = await manifest()
    const etag = res.headers.get('etag')!
    for (const inm of [etag, '*', `"sha256:${'0'.repeat(64)}", ${etag}`, `W/${etag}`]) {
      const again = await d.send('GET', MANIFEST, {headers: {'if-none-match': inm}})
      expect(again.status).toBe(304)
      expect((await again.arrayBuffer()).byteLength).toBe(0)
      expect(again.headers.get('etag')).toBe(etag)
    }
    expect((await d.send('GET', MANIFEST, {headers: {'if-none-match': `"sha256:${'0'.repeat(64)}"`}})).status).toBe(200)
  })

  test('WFM-24: manifest responses are never immutable and have no long max-age', async () => {
    const {res} = await manifest()
    const cc = res.headers.get('cache-control') ?? ''
    expect(cc).not.toContain('immutable')
    expect(cc).not.toMatch(/max-age=[1-9]/)
  })

  test('WFM-25: the manifest is RFC 8785 canonical JSON', async () => {
    await deploy()
    const {bytes, body} = await manifest()
    const {default: canonicalize} = await import('canonicalize')
    expect(new TextDecoder().decode(bytes)).toBe(canonicalize(body)!)
  })

  test('WFM-27: manifestVersion goes up by one per change and not at all without one', async () => {
    expect((await manifest()).body.manifestVersion).toBe(1)
    const dep = await deploy()
    expect((await manifest()).body.manifestVersion).toBe(2)
    // Same values again: same YAML, same digest, no new manifest.
    const same = await h.operator('PATCH', `/deployments/${dep.deploymentId}`, {values: {}})
    expect(((await same.json()) as {digest: string}).digest).toBe(dep.digest)
    expect((await manifest()).body.manifestVersion).toBe(2)
    await h.operator('PATCH', `/deployments/${dep.deploymentId}`, {values: {greeting: 'Hi'}})
    expect((await manifest()).body.manifestVersion).toBe(3)
    await h.operator('DELETE', `/deployments/${dep.deploymentId}`)
    expect((await manifest()).body).toEqual({manifestVersion: 4, bundle: null, deployments: []})
  })

  test('WFM-19: the desired-state files live in the store and are served byte for byte after a restart', async () => {
    await deploy()
    const before = await manifest()
    const yamlBefore = new Uint8Array(await (await d.send('GET', before.body.deployments[0]!.url)).arrayBuffer())
    const reopened = h.database.open()
    expect(reopened.currentManifest(d.clientId)!.bytes).toEqual(before.bytes)
    expect(reopened.getArtifact(before.body.deployments[0]!.digest)!.bytes).toEqual(yamlBefore)
    expect(reopened.getArtifact(before.body.bundle!.digest)).not.toBeNull()
    reopened.close()
  })

  test('WFM-27: the version survives a restart of the store (durable counter)', async () => {
    await deploy()
    const before = (await manifest()).body.manifestVersion
    const reopened = h.database.open()
    expect(reopened.currentManifest(d.clientId)!.manifestVersion).toBe(before)
    reopened.close()
  })

  test('WFM-28/29/30/31/32/33: bundle and deployment references are well formed and content-addressed', async () => {
    const a = await deploy()
    const b = await deploy({greeting: 'Servus'})
    const {body} = await manifest()
    expect(body.bundle).not.toBeNull()
    expect(body.bundle!.mediaType).toBe('application/vnd.margo.bundle.v1+tar+gzip')
    expect(body.bundle!.url).toBe(`/api/v1/clients/${d.clientId}/bundles/${body.bundle!.digest}`)
    expect(body.deployments.map(x => x.deploymentId).sort()).toEqual([a.deploymentId, b.deploymentId].sort())
    for (const ref of body.deployments) {
      expect(ref.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
      expect(ref.url).toBe(`/api/v1/clients/${d.clientId}/deployments/${ref.deploymentId}/${ref.digest}`)
      const yaml = await d.send('GET', ref.url.replace('/api/v1', '/api/v1'))
      expect(yaml.status).toBe(200)
      const bytes = new Uint8Array(await yaml.arrayBuffer())
      expect(sha256(bytes)).toBe(ref.digest)
      expect(ref.sizeBytes).toBe(bytes.byteLength)
      const doc = parse(new TextDecoder().decode(bytes)) as {metadata: {annotations: {id: string}}}
      expect(doc.metadata.annotations.id).toBe(ref.deploymentId)
    }
    const bundle = await d.send('GET', body.bundle!.url)
    const bundleBytes = new Uint8Array(await bundle.arrayBuffer())
    expect(sha256(bundleBytes)).toBe(body.bundle!.digest)
    const entries = await untar(bundleBytes)
    expect([...entries.keys()].sort()).toEqual(body.deployments.map(x => `${x.deploymentId}.yaml`).sort())
    for (const ref of body.deployments) {
      const entry = entries.get(`${ref.deploymentId}.yaml`)!
      expect(entry.type).toBe('file')
      expect(sha256(entry.bytes)).toBe(ref.digest)
    }
  })
})

describe('content-addressed artifacts (E6, E7)', () => {
  test('WFM-34/35/37/38: YAML and bundle carry ETag = digest, private immutable caching, their media types and Vary', async () => {
    await deploy()
    const {body} = await manifest()
    const ref = body.deployments[0]!
    const yaml = await d.send('GET', ref.url)
    expect(yaml.headers.get('etag')).toBe(`"${ref.digest}"`)
    expect(yaml.headers.get('content-type')).toBe('application/yaml')
    expect(yaml.headers.get('cache-control')).toBe('private, max-age=31536000, immutable')
    expect(yaml.headers.get('vary')).toBe('Accept-Encoding')
    const bundle = await d.send('GET', body.bundle!.url)
    expect(bundle.headers.get('etag')).toBe(`"${body.bundle!.digest}"`)
    expect(bundle.headers.get('content-type')).toBe(body.bundle!.mediaType)
    expect(bundle.headers.get('cache-control')).toContain('immutable')
    const revalidated = await d.send('GET', ref.url, {headers: {'if-none-match': `"${ref.digest}"`}})
    expect(revalidated.status).toBe(304)
  })

  test('WFM-36: unknown digests, malformed digests and unknown ids get 404', async () => {
    const dep = await deploy()
    const zero = `sha256:${'0'.repeat(64)}`
    for (const path of [`${MANIFEST}/${dep.deploymentId}/${zero}`, `${MANIFEST}/${dep.deploymentId}/not-the-right-digest`,
      `${MANIFEST}/deployment-none-00000000/${dep.digest}`, `/api/v1/clients/{clientId}/bundles/${zero}`, '/api/v1/clients/{clientId}/bundles/not-a-digest']) {
      const res = await d.send('GET', path)
      expect(res.status).toBe(404)
    }
  })

  test('WFM-51: a client cannot fetch another client\'s YAML even with a valid digest', async () => {
    const dep = await deploy()
    const other = await TestDevice.create(h)
    await other.onboard()
    const res = await other.send('GET', `${MANIFEST}/${dep.deploymentId}/${dep.digest}`)
    expect(res.status).toBe(404)
  })

  test('WFM-50: the previous manifest\'s YAML and bundle stay fetchable after an update', async () => {
    const dep = await deploy()
    const old = (await manifest()).body
    await h.operator('PATCH', `/deployments/${dep.deploymentId}`, {values: {greeting: 'Moin'}})
    const now = (await manifest()).body
    expect(now.deployments[0]!.digest).not.toBe(old.deployments[0]!.digest)
    expect((await d.send('GET', old.deployments[0]!.url)).status).toBe(200)
    expect((await d.send('GET', old.bundle!.url)).status).toBe(200)
  })

  test('bundles are deterministic: same deployments, same bytes', async () => {
    const dep = await deploy()
    const first = (await manifest()).body.bundle!.digest
    await h.operator('PATCH', `/deployments/${dep.deploymentId}`, {values: {greeting: 'Moin'}})
    await h.operator('PATCH', `/deployments/${dep.deploymentId}`, {values: {greeting: 'Hello'}})
    expect((await manifest()).body.bundle!.digest).toBe(first)
  })
})

describe('capabilities (E3/E4) and status (E8)', () => {
  test('WFM-17: POST and PUT capabilities answer 201; an invalid enum gets 422 with errors', async () => {
    expect((await d.send('PUT', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('device-1', ['Standalone Cluster'])})).status).toBe(201)
    const bad = await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('device-1', ['Unknown Role'])})
    expect(bad.status).toBe(422)
    const body = (await bad.json()) as {errors: {field: string}[], status: number}
    expect(body.status).toBe(422)
    expect(body.errors.length).toBeGreaterThan(0)
  })

  test('WFM-17: the later cpus[]/supportedDeploymentTypes shape is accepted and validated', async () => {
    const g15 = {apiVersion: 'device.margo.org/v1alpha1', kind: 'DeviceCapabilitiesManifest', properties: {id: 'dev', vendor: 'Acme Corp', modelNumber: 'ACM-XYZ', serialNumber: 'SN-12345', cpus: [{cores: 4, architecture: 'arm64'}], memory: '16Gi', storage: '256Gi', peripherals: [], interfaces: [{type: 'ethernet'}], otelCollector: false, supportedRuntimes: ['oci'], supportedDeploymentTypes: ['helm', 'compose']}}
    expect((await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: g15})).status).toBe(201)
    const bad = {...g15, properties: {...g15.properties, supportedDeploymentTypes: ['__invalid_deployment_type__']}}
    expect((await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: bad})).status).toBe(422)
  })

  test('WFM-18/43: capabilities are stored as sent, unknown extensions tolerated, and there is no read-back endpoint', async () => {
    const body = {...capabilitiesBody('device-7'), 'x-acme-extensions': {rack: 4}}
    expect((await d.send('PUT', '/api/v1/clients/{clientId}/capabilities', {body})).status).toBe(201)
    expect(JSON.parse(h.store.getClient(d.clientId)!.capabilitiesJson!)).toEqual(body)
    const get = await d.send('GET', '/api/v1/clients/{clientId}/capabilities')
    expect(get.status).toBe(404)
  })

  test('WFM-39: a valid status report gets 200 and is stored; deploymentId must match the path (422)', async () => {
    const dep = await deploy()
    const path = `/api/v1/clients/{clientId}/deployments/${dep.deploymentId}/status`
    expect((await d.send('POST', path, {body: statusBody(dep.deploymentId, 'installing')})).status).toBe(200)
    const mismatch = await d.send('POST', path, {body: statusBody('22222222-2222-4222-8222-222222222222')})
    expect(mismatch.status).toBe(422)
    const bad = await d.send('POST', path, {body: {...statusBody(dep.deploymentId), status: {state: 'Installed'}}})
    expect(bad.status).toBe(422)
    const view = (await (await h.operator('GET', `/deployments/${dep.deploymentId}`)).json()) as {status: {state: string}, timeline: unknown[]}
    expect(view.status.state).toBe('installing')
    expect(view.timeline).toHaveLength(1)
  })

  test('WFM-40: status for a just-removed deployment is accepted (removing, removed)', async () => {
    const dep = await deploy()
    await h.operator('DELETE', `/deployments/${dep.deploymentId}`)
    const path = `/api/v1/clients/{clientId}/deployments/${dep.deploymentId}/status`
    expect((await d.send('POST', path, {body: statusBody(dep.deploymentId, 'removing')})).status).toBe(200)
    expect((await d.send('POST', path, {body: statusBody(dep.deploymentId, 'removed')})).status).toBe(200)
  })
})
