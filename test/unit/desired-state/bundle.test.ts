import {describe, expect, test} from 'bun:test'
import {createHash} from 'node:crypto'
import {gunzipSync} from 'node:zlib'
import {buildBundle} from '../../../src/server/desired-state/bundle.ts'
import {untar} from './untar.ts'

const sha = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex')
const enc = (s: string) => new TextEncoder().encode(s)

const A = {deploymentId: 'a3e2f5dc-912e-494f-8395-52cf3769bc06', yaml: enc('apiVersion: application.margo.org/v1alpha1\nkind: ApplicationDeployment\n# a\n')}
const B = {deploymentId: '0d9b614e-8912-45f4-a523-372358765def', yaml: enc('kind: ApplicationDeployment\r\n# crlf and no trailing newline')}
// Exactly one tar block, to cover the no-padding case, and a large one spanning many blocks.
const C = {deploymentId: 'f0000000-0000-4000-8000-000000000000', yaml: new Uint8Array(512).fill(0x61)}
const D = {deploymentId: 'b7f1c3a0-1a2b-4c3d-9e5f-6a7b8c9d0e1a', yaml: new Uint8Array(70_001).map((_, i) => i % 251)}

describe('WFM-29 / §2.4: the deployment bundle', () => {
  test('holds exactly one <deploymentId>.yaml per deployment at the root, byte-identical, sorted by name', async () => {
    const entries = await untar(buildBundle([A, B, C, D]))
    expect(entries.map(e => e.header.name)).toEqual([B, A, D, C].map(x => `${x.deploymentId}.yaml`))
    for (const x of [A, B, C, D]) {
      const entry = entries.find(e => e.header.name === `${x.deploymentId}.yaml`)!
      expect(sha(entry.bytes)).toBe(sha(x.yaml))
      expect(entry.bytes.length).toBe(x.yaml.length)
    }
  })

  test('entries are regular files with fixed metadata: mode 0644, uid/gid 0, no owner names, mtime 0', async () => {
    for (const {header} of await untar(buildBundle([A, B]))) {
      expect(header.type).toBe('file')
      expect(header.mode).toBe(0o644)
      expect(header.uid).toBe(0)
      expect(header.gid).toBe(0)
      expect(header.uname ?? '').toBe('')
      expect(header.gname ?? '').toBe('')
      expect(header.mtime!.getTime()).toBe(0)
      expect(header.name).not.toContain('/')
    }
  })

  test('is deterministic: same input twice, or in another order, gives the same bytes', () => {
    const first = buildBundle([A, B, C])
    expect(sha(buildBundle([A, B, C]))).toBe(sha(first))
    expect(sha(buildBundle([C, A, B]))).toBe(sha(first))
    expect(Buffer.from(buildBundle([B, C, A])).equals(Buffer.from(first))).toBe(true)
  })

  test('changes when any content changes', () => {
    const changed = {...A, yaml: enc('apiVersion: application.margo.org/v1alpha1\nkind: ApplicationDeployment\n# b\n')}
    expect(sha(buildBundle([changed, B]))).not.toBe(sha(buildBundle([A, B])))
  })

  test('the gzip header carries mtime 0 and no file name', () => {
    const gz = buildBundle([A])
    expect([gz[0], gz[1], gz[2]]).toEqual([0x1f, 0x8b, 8])
    expect(gz[3]! & 0x08).toBe(0) // FNAME
    expect(Array.from(gz.subarray(4, 8))).toEqual([0, 0, 0, 0])
  })

  test('the tar stream is a valid ustar archive with correct checksums, ending in zero blocks', () => {
    const tar = gunzipSync(buildBundle([A]))
    expect(tar.length % 512).toBe(0)
    const header = tar.subarray(0, 512)
    expect(header.subarray(257, 263).toString()).toBe('ustar\0')
    const stored = parseInt(header.subarray(148, 154).toString(), 8)
    const blanked = Buffer.from(header)
    blanked.fill(0x20, 148, 156)
    expect(stored).toBe(blanked.reduce((a, b) => a + b, 0))
    expect(tar.subarray(tar.length - 1024).every(b => b === 0)).toBe(true)
  })

  test('WFM-28: refuses to build an empty archive', () => {
    expect(() => buildBundle([])).toThrow()
  })

  test('refuses ids that are not UUIDs (they become file names) and duplicates', () => {
    expect(() => buildBundle([{deploymentId: '../etc/passwd', yaml: enc('x')}])).toThrow()
    expect(() => buildBundle([{deploymentId: 'deployment-1', yaml: enc('x')}])).toThrow()
    expect(() => buildBundle([A, {...A}])).toThrow()
    expect(() => buildBundle([A, {...A, deploymentId: A.deploymentId.toUpperCase()}])).toThrow()
  })
})
