import {describe, expect, test} from 'bun:test'
import {createHash} from 'node:crypto'
import {gunzipSync} from 'node:zlib'
import {bundleOf, canonicalJson, manifestBytes, manifestOf} from '../../../src/conformance/agent/encoding.ts'
import {buildBundle} from '../../../src/server/desired-state/bundle.ts'
import {renderManifest} from '../../../src/server/desired-state/manifest.ts'

/**
 * Both encoders of State Manifests and bundles, the server's and the agent-conformance mock's,
 * pinned to the same bytes. The expected values were worked out apart from either encoder: the
 * manifest below is RFC 8785 written out by hand, and the tar layout, its digests and the gzip
 * at level 9 (zlib, mtime 0) were computed by a separate script from the ustar field layout
 * spelled out in LAYOUT.
 */
const CLIENT = '7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f'
const A = 'a1b2c3d4-0000-4000-8000-000000000001'
const C = 'c3e2a1b0-0000-4000-8000-000000000002'
const utf8 = (s: string) => new TextEncoder().encode(s)
// Given out of order, and one YAML with non-ASCII text: sizes count bytes, not characters.
const ENTRIES = [
  {deploymentId: C, yaml: utf8(`metadata:\n  annotations:\n    id: ${C}\n`)},
  {deploymentId: A, yaml: utf8(`metadata:\n  annotations:\n    id: ${A}\nname: "Grüße"\n`)},
]

const YAML_A = 'sha256:e9a6bf2674c456dbed3d28d1fcdbf4090698c3b05b4fb51756c25299f53c522d'
const YAML_C = 'sha256:c51d0e2970e405d9b16ea3bf39ecbb18a611f89249e4d64c6f0844cad265c05f'
const TAR = 'sha256:29fff5dc797286f85b8ba9ba9b8eccdc80e6290f0ed338ec08a1c05f05e836cd'
const BUNDLE = 'sha256:279a2f5f59dd539ba92d76c369a7c860dc6845ebced461b54214eeea04204c3b'
const BUNDLE_SIZE = 184

/** Per entry, in archive order: name, size field, checksum field (mode 0644, ids 0, mtime 0, type '0', magic "ustar\0" "00"). */
const LAYOUT = [
  {name: `${A}.yaml`, size: '00000000126\0', checksum: '012534\0 '},
  {name: `${C}.yaml`, size: '00000000106\0', checksum: '012530\0 '},
]

const MANIFEST = '{"bundle":{"digest":"' + BUNDLE + '","mediaType":"application/vnd.margo.bundle.v1+tar+gzip","sizeBytes":184,' +
  '"url":"/api/v1/clients/' + CLIENT + '/bundles/' + BUNDLE + '"},' +
  '"deployments":[' +
  '{"deploymentId":"' + A + '","digest":"' + YAML_A + '","sizeBytes":86,"url":"/api/v1/clients/' + CLIENT + '/deployments/' + A + '/' + YAML_A + '"},' +
  '{"deploymentId":"' + C + '","digest":"' + YAML_C + '","sizeBytes":70,"url":"/api/v1/clients/' + CLIENT + '/deployments/' + C + '/' + YAML_C + '"}' +
  '],"manifestVersion":7}'
const MANIFEST_DIGEST = 'sha256:0bcfcc9c7efabc5dc2129778313b173bd1898828d93f82dc529ed4bf9f95e489'
const EMPTY = '{"bundle":null,"deployments":[],"manifestVersion":1}'
const EMPTY_DIGEST = 'sha256:3de35db050eafa3d8be559a8642c02dedc62824df44dfafac4a56336bc988f59'

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`
const text = (b: Uint8Array, from: number, to: number) => new TextDecoder().decode(b.subarray(from, to))

const encoders = {
  server: {
    bundle: () => buildBundle(ENTRIES),
    manifest: (version: number, entries: typeof ENTRIES, bundle: Uint8Array | null) => renderManifest({clientId: CLIENT, manifestVersion: version, deployments: entries, bundle: bundle && {bytes: bundle}}).bytes,
  },
  mock: {
    bundle: () => bundleOf(ENTRIES),
    manifest: (version: number, entries: typeof ENTRIES, bundle: Uint8Array | null) => manifestBytes(manifestOf(CLIENT, version, entries, bundle)),
  },
}

for (const [who, encoder] of Object.entries(encoders)) {
  describe(`the ${who}'s encoders give the expected bytes`, () => {
    test('bundle: the ustar layout, sorted by name, gzip level 9 with mtime 0', () => {
      const bundle = encoder.bundle()
      expect([sha256(bundle), bundle.length]).toEqual([BUNDLE, BUNDLE_SIZE])
      const tar = new Uint8Array(gunzipSync(bundle))
      expect([sha256(tar), tar.length]).toEqual([TAR, 6 * 512])
      LAYOUT.forEach((entry, i) => {
        const at = i * 1024
        expect([text(tar, at, at + entry.name.length), text(tar, at + 124, at + 136), text(tar, at + 148, at + 156)]).toEqual([entry.name, entry.size, entry.checksum])
      })
    })

    test('manifest: RFC 8785 bytes with digests and sizes of the exact bytes, deployments by id', () => {
      const bytes = encoder.manifest(7, ENTRIES, encoder.bundle())
      expect(new TextDecoder().decode(bytes)).toBe(MANIFEST)
      expect(sha256(bytes)).toBe(MANIFEST_DIGEST)
    })

    test('manifest: no deployments, bundle null', () => {
      const bytes = encoder.manifest(1, [], null)
      expect([new TextDecoder().decode(bytes), sha256(bytes)]).toEqual([EMPTY, EMPTY_DIGEST])
    })
  })
}

describe('the mock\'s canonical JSON', () => {
  test('members sorted by UTF-16 code units, no whitespace, JSON.stringify string escapes', () => {
    expect(canonicalJson({b: 1, a: [true, null, '\u0007"\\'], é: 0, A: -5, '\ud83d\ude00': 'x', '\uffff': 'y', z: undefined} as never))
      .toBe('{"A":-5,"a":[true,null,"\\u0007\\"\\\\"],"b":1,"é":0,"\ud83d\ude00":"x","\uffff":"y"}')
  })

  test('refuses numbers a manifest never holds', () => {
    expect(() => canonicalJson(1.5)).toThrow('not a safe integer')
    expect(() => canonicalJson(2 ** 53)).toThrow('not a safe integer')
  })
})
