import {describe, expect, test} from 'bun:test'
import {gzipSync} from 'node:zlib'
import {readBundle} from '../../../src/agent/sync/bundle.ts'
import {sha256Digest} from '../../../src/margo/digest.ts'
import {ID_A, ID_B, ID_C, deploymentYaml, manifestWith, ref, tarGz, type Entry} from './helpers.ts'

const yamlA = deploymentYaml(ID_A)
const yamlB = deploymentYaml(ID_B)
const refs = [ref(ID_A, yamlA), ref(ID_B, yamlB)]

async function read(entries: Entry[], opts: {limits?: Parameters<typeof readBundle>[2]} = {}) {
  const archive = await tarGz(entries)
  return readBundle(archive, manifestWith(5, refs, archive), opts.limits)
}

describe('A11, §2.4: bundle reading', () => {
  test('entries are matched by digest, not by name', async () => {
    const r = await read([{name: 'whatever.yaml', bytes: yamlB}, {name: `${ID_B}.yaml`, bytes: yamlA}])
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.yamls.get(ID_A)).toEqual(yamlA)
    expect(r.yamls.get(ID_B)).toEqual(yamlB)
  })

  test('a ./ prefix and the root directory entry are still the root', async () => {
    const r = await read([{name: './', type: 'directory'}, {name: `./${ID_A}.yaml`, bytes: yamlA}, {name: `./${ID_B}.yaml`, bytes: yamlB}])
    expect(r.ok).toBe(true)
  })

  test('CL-20/21: the archive digest is checked before anything else', async () => {
    const archive = await tarGz([{name: 'a.yaml', bytes: yamlA}, {name: 'b.yaml', bytes: yamlB}])
    const m = manifestWith(5, refs, archive)
    const wrong = {...m, bundle: {...m.bundle!, digest: sha256Digest('other')}}
    const r = await readBundle(archive, wrong)
    expect(r).toMatchObject({ok: false})
    if (!r.ok) expect(r.reason).toContain('bundle digest')
  })

  test('CL-21: an entry whose bytes changed is refused', async () => {
    const changed = deploymentYaml(ID_B, '9.9.9')
    const r = await read([{name: 'a.yaml', bytes: yamlA}, {name: 'b.yaml', bytes: changed}])
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason).toContain('not a deployment of this manifest')
  })

  test('an extra entry is refused', async () => {
    const r = await read([{name: 'a.yaml', bytes: yamlA}, {name: 'b.yaml', bytes: yamlB}, {name: 'c.yaml', bytes: deploymentYaml(ID_C)}])
    expect(r.ok).toBe(false)
  })

  test('the same deployment twice is refused', async () => {
    const r = await read([{name: 'a.yaml', bytes: yamlA}, {name: 'b.yaml', bytes: yamlB}, {name: 'a2.yaml', bytes: yamlA}])
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason).toContain('twice')
  })

  test('a missing entry is refused', async () => {
    const r = await read([{name: 'a.yaml', bytes: yamlA}])
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason).toContain(ID_B)
  })

  test('symlinks and hard links are refused', async () => {
    for (const type of ['symlink', 'link'] as const) {
      const r = await read([{name: 'a.yaml', bytes: yamlA}, {name: 'b.yaml', type, linkname: 'a.yaml'}])
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.reason).toContain(type)
    }
  })

  test('directories, devices and FIFOs are refused', async () => {
    for (const e of [{name: 'sub/', type: 'directory'}, {name: 'dev', type: 'character-device'}, {name: 'fifo', type: 'fifo'}] as Entry[]) {
      const r = await read([{name: 'a.yaml', bytes: yamlA}, {name: 'b.yaml', bytes: yamlB}, e])
      expect(r.ok).toBe(false)
    }
  })

  test('../ paths, absolute paths and nested files are refused even with the right bytes', async () => {
    for (const name of ['../b.yaml', '/b.yaml', 'sub/b.yaml', './../b.yaml', '..']) {
      const r = await read([{name: 'a.yaml', bytes: yamlA}, {name, bytes: yamlB}])
      expect(r.ok).toBe(false)
    }
  })

  test('decompression is bounded', async () => {
    const r = await read([{name: 'a.yaml', bytes: yamlA}, {name: 'b.yaml', bytes: yamlB}], {limits: {maxUncompressedBytes: 1024}})
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason).toContain('expands beyond')
    const big = await read([{name: 'a.yaml', bytes: yamlA}, {name: 'b.yaml', bytes: yamlB}], {limits: {maxEntryBytes: 100}})
    expect(big.ok).toBe(false)
  })

  test('bytes that are not gzip, or gzip that is not tar, are refused', async () => {
    const notGzip = new TextEncoder().encode('plain text')
    expect((await readBundle(notGzip, manifestWith(5, refs, notGzip))).ok).toBe(false)
    const notTar = new Uint8Array(gzipSync(Buffer.alloc(1024, 7)))
    expect((await readBundle(notTar, manifestWith(5, refs, notTar))).ok).toBe(false)
  })
})
