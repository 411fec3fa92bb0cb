import {describe, expect, test} from 'bun:test'
import {sha256Digest} from '../../../src/margo/digest.ts'
import {evaluateManifest, etagDigest} from '../../../src/agent/sync/manifest-check.ts'
import {ID_A, deploymentYaml, ref} from './helpers.ts'

const MT = 'application/vnd.margo.manifest.v1+json'
const enc = (s: string) => new TextEncoder().encode(s)

function body(version: number, extra = ''): Uint8Array {
  const r = ref(ID_A, deploymentYaml(ID_A + extra))
  const bundleDigest = sha256Digest('bundle' + extra)
  return enc(JSON.stringify({
    manifestVersion: version,
    bundle: {mediaType: 'application/vnd.margo.bundle.v1+tar+gzip', digest: bundleDigest, url: `/api/v1/clients/c1/bundles/${bundleDigest}`},
    deployments: [r],
  }))
}
const etagOf = (b: Uint8Array) => `"${sha256Digest(b)}"`
const response = (b: Uint8Array, etag: string | null = etagOf(b), contentType: string | null = MT) => ({body: b, etag, contentType})

describe('manifest acceptance (spec §2.5.4)', () => {
  test('A4(a): nothing stored, any version is accepted and the exact text is kept', () => {
    const b = body(7)
    const d = evaluateManifest(null, response(b))
    expect(d.kind).toBe('accept')
    if (d.kind !== 'accept') return
    expect(d.manifest.manifestVersion).toBe(7)
    expect(d.etag).toBe(etagOf(b))
    expect([...enc(d.text)]).toEqual([...b])
  })

  test('CL-18: a strictly greater version is accepted', () => {
    const old = body(7)
    const d = evaluateManifest({manifestVersion: 7, etag: etagOf(old)}, response(body(8, 'x')))
    expect(d.kind).toBe('accept')
  })

  test('A4(b): equal version and the same body is a no-op, not a security event', () => {
    const b = body(7)
    expect(evaluateManifest({manifestVersion: 7, etag: etagOf(b)}, response(b))).toEqual({kind: 'same'})
  })

  test('A4(b): with an opaque stored ETag, the stored text decides sameness', () => {
    const b = body(7)
    const text = new TextDecoder().decode(b)
    expect(evaluateManifest({manifestVersion: 7, etag: '"v7"', text}, response(b, '"v7"'))).toEqual({kind: 'same'})
    const d = evaluateManifest({manifestVersion: 7, etag: '"v7"', text}, response(body(7, 'other'), '"v7b"'))
    expect(d).toMatchObject({kind: 'reject', code: 'rollback', security: true})
  })

  test('A4(c), CL-18: equal version with a different body is a rollback and a security event', () => {
    const d = evaluateManifest({manifestVersion: 7, etag: etagOf(body(7))}, response(body(7, 'changed')))
    expect(d).toMatchObject({kind: 'reject', code: 'rollback', security: true})
  })

  test('A4(c), CL-18: a lower version is a rollback and a security event', () => {
    const d = evaluateManifest({manifestVersion: 7, etag: etagOf(body(7))}, response(body(6)))
    expect(d).toMatchObject({kind: 'reject', code: 'rollback', security: true})
  })

  test('§2.5.4.2: a body that does not hash to its sha256 ETag is an integrity failure', () => {
    const b = body(8)
    const d = evaluateManifest(null, response(b, `"${sha256Digest('something else')}"`))
    expect(d).toMatchObject({kind: 'reject', code: 'integrity', security: true})
    // one flipped byte
    const tampered = b.slice()
    tampered[tampered.length - 2] = 0x20
    expect(evaluateManifest(null, response(tampered, etagOf(b)))).toMatchObject({kind: 'reject', code: 'integrity'})
  })

  test('§2.5.4.2: an opaque ETag is tolerated and kept for If-None-Match; a missing one becomes the body digest', () => {
    const b = body(3)
    expect(evaluateManifest(null, response(b, 'W/"abc123"'))).toMatchObject({kind: 'accept', etag: 'W/"abc123"'})
    expect(evaluateManifest(null, response(b, null))).toMatchObject({kind: 'accept', etag: etagOf(b)})
  })

  test('§2.5.4.2: weak or unquoted digest ETags are still checked', () => {
    const b = body(3)
    expect(evaluateManifest(null, response(b, `W/${etagOf(b)}`)).kind).toBe('accept')
    expect(evaluateManifest(null, response(b, sha256Digest(b))).kind).toBe('accept')
    expect(evaluateManifest(null, response(b, sha256Digest('x'))).kind).toBe('reject')
    expect(etagDigest('"opaque"')).toBeNull()
  })

  test('CL-16: the content type must be the manifest media type; parameters are tolerated', () => {
    const b = body(3)
    expect(evaluateManifest(null, response(b, etagOf(b), `${MT}; charset=utf-8`)).kind).toBe('accept')
    expect(evaluateManifest(null, response(b, etagOf(b), 'Application/VND.margo.manifest.v1+JSON')).kind).toBe('accept')
    expect(evaluateManifest(null, response(b, etagOf(b), 'application/json'))).toMatchObject({kind: 'reject', code: 'content-type', security: false})
    expect(evaluateManifest(null, response(b, etagOf(b), null))).toMatchObject({kind: 'reject', code: 'content-type'})
  })

  test('CL-19: a sha512 digest makes the whole manifest unsupported', () => {
    const json = JSON.parse(new TextDecoder().decode(body(4)))
    json.deployments[0].digest = `sha512:${'ab'.repeat(64)}`
    const b = enc(JSON.stringify(json))
    expect(evaluateManifest(null, response(b))).toMatchObject({kind: 'reject', code: 'unsupported-digest', security: false})
  })

  test('a body that is not a manifest is malformed', () => {
    for (const text of ['{', '[]', '{"manifestVersion":0,"bundle":null,"deployments":[]}', '\uFEFF{"manifestVersion":1,"bundle":null,"deployments":[]}']) {
      const b = enc(text)
      expect(evaluateManifest(null, response(b))).toMatchObject({kind: 'reject', code: 'malformed'})
    }
    const invalidUtf8 = new Uint8Array([0x7b, 0xff, 0x7d])
    expect(evaluateManifest(null, response(invalidUtf8))).toMatchObject({kind: 'reject', code: 'malformed'})
  })

  test('A20: a version beyond the safe integer range is refused rather than rounded', () => {
    const b = enc('{"manifestVersion":9007199254740993,"bundle":null,"deployments":[]}')
    expect(evaluateManifest(null, response(b))).toMatchObject({kind: 'reject', code: 'malformed'})
  })
})
