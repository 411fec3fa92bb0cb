import {describe, expect, test} from 'bun:test'
import {createHash} from 'node:crypto'
import {parseStateManifest} from '../../../src/margo/manifest.ts'
import {buildBundle} from '../../../src/server/desired-state/bundle.ts'
import {renderManifest} from '../../../src/server/desired-state/manifest.ts'
import {untar} from './untar.ts'

const sha = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex')
const enc = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

const CLIENT = '5b1c7c1e-2f5a-4c1b-9d55-0d7f9b3e8a11'
const A = {deploymentId: 'a3e2f5dc-912e-494f-8395-52cf3769bc06', yaml: enc('kind: ApplicationDeployment\nmetadata: {annotations: {id: a3e2f5dc-912e-494f-8395-52cf3769bc06}}\n')}
const B = {deploymentId: '0d9b614e-8912-45f4-a523-372358765def', yaml: enc('kind: ApplicationDeployment\nmetadata: {annotations: {id: 0d9b614e-8912-45f4-a523-372358765def}}\n')}

function render(deployments: {deploymentId: string, yaml: Uint8Array}[], manifestVersion = 1, urlPrefix?: string) {
  const bundle = deployments.length > 0 ? {bytes: buildBundle(deployments)} : null
  return {bundle, out: renderManifest({clientId: CLIENT, manifestVersion, deployments, bundle, ...(urlPrefix !== undefined && {urlPrefix})})}
}

describe('rendering the State Manifest', () => {
  test('WFM-20: the body is {manifestVersion, bundle, deployments} and parses as a valid manifest', () => {
    const {out} = render([A, B], 7)
    const body = JSON.parse(text(out.bytes))
    expect(Object.keys(body).sort()).toEqual(['bundle', 'deployments', 'manifestVersion'])
    expect(body.manifestVersion).toBe(7)
    const parsed = parseStateManifest(text(out.bytes))
    expect(parsed.ok).toBe(true)
  })

  test('WFM-22: the ETag is the quoted sha256 of exactly the returned bytes, and digest matches it', () => {
    const {out} = render([A])
    expect(out.digest).toBe(sha(out.bytes))
    expect(out.etag).toBe(`"${sha(out.bytes)}"`)
    expect(out.etag).toMatch(/^"sha256:[0-9a-f]{64}"$/)
  })

  test('WFM-25: RFC 8785 canonical JSON: sorted keys, no whitespace, deterministic across input order', () => {
    const one = render([A, B]).out
    const two = render([B, A]).out
    expect(Buffer.from(one.bytes).equals(Buffer.from(two.bytes))).toBe(true)
    expect(one.etag).toBe(two.etag)
    const t = text(one.bytes)
    expect(t).not.toMatch(/\s/)
    expect(t.startsWith('{"bundle":{"digest":')).toBe(true)
    expect(t.endsWith('"manifestVersion":1}')).toBe(true)
  })

  test('deployments are sorted by deploymentId', () => {
    const body = JSON.parse(text(render([A, B]).out.bytes))
    expect(body.deployments.map((d: {deploymentId: string}) => d.deploymentId)).toEqual([B.deploymentId, A.deploymentId])
  })

  test('WFM-28: no deployments gives bundle null and an empty list', () => {
    const {out} = render([], 3)
    expect(text(out.bytes)).toBe('{"bundle":null,"deployments":[],"manifestVersion":3}')
  })

  test('WFM-28: bundle must be null exactly when there are no deployments', () => {
    expect(() => renderManifest({clientId: CLIENT, manifestVersion: 1, deployments: [A], bundle: null})).toThrow()
    expect(() => renderManifest({clientId: CLIENT, manifestVersion: 1, deployments: [], bundle: {bytes: buildBundle([A])}})).toThrow()
  })

  test('WFM-29 / WFM-30 / WFM-32 / WFM-33: bundle ref has the media type, the exact-bytes digest, sizeBytes and its url', () => {
    const {out, bundle} = render([A, B])
    const body = JSON.parse(text(out.bytes))
    expect(body.bundle).toEqual({
      mediaType: 'application/vnd.margo.bundle.v1+tar+gzip',
      digest: sha(bundle!.bytes),
      sizeBytes: bundle!.bytes.length,
      url: `/api/v1/clients/${CLIENT}/bundles/${sha(bundle!.bytes)}`,
    })
  })

  test('WFM-30 / WFM-31 / WFM-32: each deployment ref carries its id, YAML digest, size and url', () => {
    const body = JSON.parse(text(render([A]).out.bytes))
    expect(body.deployments).toEqual([{
      deploymentId: A.deploymentId,
      digest: sha(A.yaml),
      sizeBytes: A.yaml.length,
      url: `/api/v1/clients/${CLIENT}/deployments/${A.deploymentId}/${sha(A.yaml)}`,
    }])
  })

  test('WFM-29: the bundle holds exactly the YAMLs the manifest references, each matching its digest', async () => {
    const {out, bundle} = render([A, B])
    const body = JSON.parse(text(out.bytes)) as {deployments: {digest: string}[]}
    const entries = await untar(bundle!.bytes)
    expect(entries.map(e => sha(e.bytes)).sort()).toEqual(body.deployments.map(d => d.digest).sort())
  })

  test('C22: urls are relative with no base path unless a prefix is asked for', () => {
    const plain = JSON.parse(text(render([A]).out.bytes))
    expect(plain.bundle.url.startsWith('/api/v1/clients/')).toBe(true)
    const prefixed = JSON.parse(text(render([A], 1, '/v1alpha2/margo').out.bytes))
    expect(prefixed.bundle.url.startsWith('/v1alpha2/margo/api/v1/clients/')).toBe(true)
    expect(prefixed.deployments[0].url.startsWith('/v1alpha2/margo/api/v1/clients/')).toBe(true)
  })

  test('the same logical manifest with another version is different bytes', () => {
    expect(render([A], 1).out.etag).not.toBe(render([A], 2).out.etag)
  })

  test('refuses versions outside 1..MAX_SAFE_INTEGER and duplicate or non-UUID ids', () => {
    for (const v of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) {
      expect(() => renderManifest({clientId: CLIENT, manifestVersion: v, deployments: [], bundle: null})).toThrow()
    }
    expect(() => renderManifest({clientId: CLIENT, manifestVersion: 1, deployments: [A, A], bundle: {bytes: buildBundle([A])}})).toThrow()
    expect(() => renderManifest({clientId: CLIENT, manifestVersion: 1, deployments: [{deploymentId: 'x', yaml: enc('x')}], bundle: {bytes: enc('x')}})).toThrow()
  })
})
