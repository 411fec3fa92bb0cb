/**
 * The mock WFM's own encoders for State Manifests and bundles, written apart from the server's
 * (src/server/desired-state) on purpose: if both shared code, a byte-level bug in ours would be
 * served to the agent under test by the mock too, and nothing would notice. Golden-byte tests
 * pin both to the same expected bytes.
 */
import {createHash} from 'node:crypto'
import {gzipSync} from 'node:zlib'

/** A JSON value as a State Manifest holds it: no fractions, no exponents. */
export type ManifestJson = null | boolean | number | string | readonly ManifestJson[] | {readonly [key: string]: ManifestJson | undefined}

/**
 * RFC 8785 (JCS) serialization for manifest values: object members sorted by their UTF-16 code
 * units, no whitespace, strings escaped the way ECMAScript's JSON.stringify does (RFC 8785
 * §3.2.2.2 adopts exactly that), integers in their shortest decimal form. Members whose value
 * is undefined are left out, as JSON.stringify does. Anything but a safe integer is refused:
 * a manifest has no other numbers, and a bug should not slip through as `1e21`.
 */
export function canonicalJson(value: ManifestJson): string {
  if (value === null) return 'null'
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`not a safe integer: ${value}`)
    return Object.is(value, -0) ? '0' : String(value)
  }
  if (typeof value === 'string') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(v => canonicalJson(v)).join(',')}]`
  const object = value as {readonly [key: string]: ManifestJson | undefined}
  const keys = Object.keys(object).filter(k => object[k] !== undefined).sort(byCodeUnits)
  return `{${keys.map(k => `${JSON.stringify(k)}:${canonicalJson(object[k]!)}`).join(',')}}`
}

function byCodeUnits(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i)
    if (d !== 0) return d
  }
  return a.length - b.length
}

export function sha256Of(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

// ---------------------------------------------------------------- ustar (POSIX.1-1988)

const BLOCK = 512
const ascii = (text: string) => new TextEncoder().encode(text)

/** One field of a header: `value` at `offset`, at most `length` bytes, the rest left NUL. */
function put(header: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = ascii(value)
  if (bytes.length > length) throw new Error(`tar field at ${offset} cannot hold ${JSON.stringify(value)}`)
  header.set(bytes, offset)
}

/** An octal number of `length - 1` digits and a NUL, as ustar writes sizes, modes and ids. */
const octal = (value: number, length: number) => `${value.toString(8).padStart(length - 1, '0')}\0`

/**
 * The header of a regular file at the archive root: mode 0644, owner and group 0 with empty
 * names, mtime 0, so the archive depends on the names and contents alone.
 */
function fileHeader(name: string, size: number): Uint8Array {
  if (ascii(name).length > 100 || name.includes('/')) throw new Error(`bundle entry names are short root names: ${name}`)
  const h = new Uint8Array(BLOCK)
  put(h, 0, 100, name)
  put(h, 100, 8, octal(0o644, 8))
  put(h, 108, 8, octal(0, 8))
  put(h, 116, 8, octal(0, 8))
  put(h, 124, 12, octal(size, 12))
  put(h, 136, 12, octal(0, 12))
  put(h, 156, 1, '0')
  put(h, 257, 6, 'ustar\0')
  put(h, 263, 2, '00')
  // The checksum is summed with its own field read as eight spaces, then written as six octal digits, NUL, space.
  h.fill(0x20, 148, 156)
  let sum = 0
  for (const b of h) sum += b
  put(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `)
  return h
}

/** A tar of the given files, in the given order, ended by two zero blocks. */
export function tarOf(files: readonly {name: string, bytes: Uint8Array}[]): Uint8Array {
  const size = files.reduce((n, f) => n + BLOCK + Math.ceil(f.bytes.length / BLOCK) * BLOCK, 2 * BLOCK)
  const out = new Uint8Array(size)
  let at = 0
  for (const f of files) {
    out.set(fileHeader(f.name, f.bytes.length), at)
    at += BLOCK
    out.set(f.bytes, at)
    at += Math.ceil(f.bytes.length / BLOCK) * BLOCK
  }
  return out
}

/**
 * A deployment bundle (spec §2.4): `<deploymentId>.yaml` per deployment at the root, sorted by
 * name, gzip at level 9 (zlib's header carries mtime 0 and no name).
 */
export function bundleOf(entries: readonly {deploymentId: string, yaml: Uint8Array}[]): Uint8Array {
  const files = entries.map(e => ({name: `${e.deploymentId}.yaml`, bytes: e.yaml})).sort((a, b) => byCodeUnits(a.name, b.name))
  return new Uint8Array(gzipSync(tarOf(files), {level: 9}))
}

export interface ManifestEntry {
  deploymentId: string
  yaml: Uint8Array
}

export interface ManifestReference {
  deploymentId: string
  digest: string
  sizeBytes: number
  url: string
}

export interface MockManifest {
  manifestVersion: number
  bundle: {mediaType: string, digest: string, sizeBytes: number, url: string} | null
  deployments: ManifestReference[]
}

export const BUNDLE_TYPE = 'application/vnd.margo.bundle.v1+tar+gzip'

/**
 * The State Manifest of `entries` for `clientId` (spec §2.1): deployments ordered by id, each
 * with the digest and size of its exact bytes and its content-addressed URL relative to the API
 * root; the bundle likewise, or null when there are no deployments.
 */
export function manifestOf(clientId: string, manifestVersion: number, entries: readonly ManifestEntry[], bundle: Uint8Array | null): MockManifest {
  const base = `/api/v1/clients/${encodeURIComponent(clientId)}`
  const bundleDigest = bundle && sha256Of(bundle)
  return {
    manifestVersion,
    bundle: bundle && bundleDigest ? {mediaType: BUNDLE_TYPE, digest: bundleDigest, sizeBytes: bundle.length, url: `${base}/bundles/${bundleDigest}`} : null,
    deployments: [...entries].sort((a, b) => byCodeUnits(a.deploymentId, b.deploymentId)).map(e => {
      const digest = sha256Of(e.yaml)
      return {deploymentId: e.deploymentId, digest, sizeBytes: e.yaml.length, url: `${base}/deployments/${encodeURIComponent(e.deploymentId)}/${digest}`}
    }),
  }
}

/** The manifest's body bytes: canonical JSON, UTF-8. */
export function manifestBytes(manifest: MockManifest): Uint8Array {
  return new TextEncoder().encode(canonicalJson(manifest as unknown as ManifestJson))
}
