import {describe, expect, test} from 'bun:test'
import {hasUnsupportedDigest, parseStateManifest, UNSUPPORTED_DIGEST_ALGORITHM} from '../../../src/margo/manifest.ts'

const BUNDLE_DIGEST = 'sha256:01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b'
const YAML_DIGEST = `sha256:a4e0${'0'.repeat(60)}`
const ID = 'a3e2f5dc-912e-494f-8395-52cf3769bc06'

/** Spec §2.1 example, with the elided digest filled in. */
function example(): any {
  return {
    manifestVersion: 101,
    bundle: {mediaType: 'application/vnd.margo.bundle.v1+tar+gzip', digest: BUNDLE_DIGEST, sizeBytes: 2048, url: `/api/v1/clients/1234/bundles/${BUNDLE_DIGEST}`},
    deployments: [{deploymentId: ID, digest: YAML_DIGEST, sizeBytes: 1840, url: `/api/v1/clients/1234/deployments/${ID}/${YAML_DIGEST}`}],
  }
}

const parse = (v: unknown) => parseStateManifest(typeof v === 'string' ? v : JSON.stringify(v))
const fieldsOf = (v: unknown) => {
  const r = parse(v)
  return r.ok ? [] : r.errors.map(e => e.field)
}

describe('State Manifest parsing (client side)', () => {
  test('the spec §2.1 example is accepted as written', () => {
    const r = parse(example())
    expect(r.ok).toBe(true)
    if (r.ok) expect(r.value).toEqual(example())
  })

  test('WFM-28: the empty desired state has bundle null', () => {
    const r = parse({manifestVersion: 1, bundle: null, deployments: []})
    expect(r).toEqual({ok: true, value: {manifestVersion: 1, bundle: null, deployments: []}})
  })

  test('WFM-28: bundle must be present, null iff deployments is empty', () => {
    const {bundle: _, ...noBundle} = example()
    expect(fieldsOf(noBundle)).toEqual(['bundle'])
    expect(fieldsOf({...example(), bundle: null})).toEqual(['bundle'])
    expect(fieldsOf({...example(), deployments: []})).toEqual(['bundle'])
    expect(fieldsOf({...example(), bundle: 'x'})).toEqual(['bundle'])
  })

  test('MI-031: bundle.mediaType must be the bundle media type', () => {
    expect(fieldsOf({...example(), bundle: {...example().bundle, mediaType: 'application/gzip'}})).toEqual(['bundle.mediaType'])
  })

  test('A20: manifestVersion is a safe integer >= 1, checked on the literal text', () => {
    for (const v of ['0', '-1', '1.5', '"7"', 'null', '1e3', '9007199254740992', '9007199254740993', '18446744073709551615']) {
      const text = JSON.stringify(example()).replace('"manifestVersion":101', `"manifestVersion":${v}`)
      expect(fieldsOf(text)).toEqual(['manifestVersion'])
    }
    const max = JSON.stringify(example()).replace('"manifestVersion":101', `"manifestVersion":${Number.MAX_SAFE_INTEGER}`)
    const r = parse(max)
    expect(r.ok && r.value.manifestVersion).toBe(Number.MAX_SAFE_INTEGER)
    const {manifestVersion: _, ...missing} = example()
    expect(fieldsOf(missing)).toEqual(['manifestVersion'])
  })

  test('A20: a nested manifestVersion does not stand in for the top-level one', () => {
    const text = `{"deployments":[],"bundle":null,"x-acme-extensions":{"manifestVersion":5},"manifestVersion":9007199254740993}`
    expect(fieldsOf(text)).toEqual(['manifestVersion'])
    const ok = `{"x-acme-extensions":{"manifestVersion":18446744073709551615},"manifestVersion":5,"deployments":[],"bundle":null}`
    expect(fieldsOf(ok)).toEqual([])
  })

  test(`CL-19: an unsupported digest algorithm anywhere is reported as '${UNSUPPORTED_DIGEST_ALGORITHM}'`, () => {
    const m = example()
    m.deployments[0].digest = `sha512:${'ab'.repeat(64)}`
    const r = parse(m)
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.errors).toEqual([{field: 'deployments[0].digest', message: UNSUPPORTED_DIGEST_ALGORITHM}])
    expect(hasUnsupportedDigest(r.errors)).toBe(true)

    const b = example()
    b.bundle.digest = b.bundle.digest.replace('sha256:', 'sha512:')
    const rb = parse(b)
    expect(!rb.ok && hasUnsupportedDigest(rb.errors)).toBe(true)
  })

  test('malformed digests are errors but not "unsupported"', () => {
    const m = example()
    m.deployments[0].digest = 'not-the-right-digest'
    m.bundle.digest = BUNDLE_DIGEST.toUpperCase()
    const r = parse(m)
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.errors.map(e => e.field)).toEqual(['bundle.digest', 'deployments[0].digest'])
    expect(hasUnsupportedDigest(r.errors)).toBe(false)
  })

  test('C22: urls must be server-relative paths', () => {
    const m = example()
    m.bundle.url = `https://wfm.example/api/v1/clients/1234/bundles/${BUNDLE_DIGEST}`
    m.deployments[0].url = '//evil.example/x'
    expect(fieldsOf(m)).toEqual(['bundle.url', 'deployments[0].url'])
  })

  test('deploymentIds must be unique UUIDs', () => {
    const m = example()
    m.deployments.push({...m.deployments[0]})
    m.deployments.push({...m.deployments[0], deploymentId: 'deployment-none-00000000'})
    expect(fieldsOf(m)).toEqual(['deployments[1].deploymentId', 'deployments[2].deploymentId'])
  })

  test('CL-22: sizeBytes is advisory: a wrong value is kept, an unusable one dropped, never an error', () => {
    const m = example()
    m.bundle.sizeBytes = 1
    m.deployments[0].sizeBytes = 'big'
    const r = parse(m)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.value.bundle!.sizeBytes).toBe(1)
    expect('sizeBytes' in r.value.deployments[0]!).toBe(false)
  })

  test('unknown members are tolerated; non-JSON and non-object bodies are rejected', () => {
    expect(fieldsOf({...example(), 'x-acme-extensions': {a: 1}, signature: 'future'})).toEqual([])
    expect(fieldsOf('{"manifestVersion": 1,')).toEqual([''])
    expect(fieldsOf('[]')).toEqual([''])
  })
})
