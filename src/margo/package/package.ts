/**
 * Margo application packages (spec §3.3): a folder holding exactly one ApplicationDescription
 * YAML at its root and, optionally, `resources/` files that the description references from
 * `metadata.catalog.application`.
 *
 * Archives are untrusted. Every entry is checked before any of them is used, and the first
 * unsafe entry makes the whole package fail: absolute paths, `..` segments, links, device
 * files, setuid/setgid/sticky bits, too many entries or too many bytes.
 */
import {lstat, readdir, readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'
import {extract, type Header} from 'tar-stream'
import {parse} from 'yaml'
import {parseApplicationDescription} from './description.ts'
import {normaliseRelativePath} from './paths.ts'
import {Findings} from './findings.ts'
import type {FieldError} from '../result.ts'
import {writeTarGz, type TarEntry} from '../../util/tar.ts'
import type {ApplicationDescription} from './types.ts'

export interface PackageFile {
  path: string
  bytes: Uint8Array
}

export type PackageResult =
  | {
    ok: true
    description: ApplicationDescription
    descriptionSource: string
    /** Path of the description inside the package root, e.g. `margo.yaml`. */
    descriptionFile: string
    /** Every other file of the package, by path inside the package root, sorted. */
    resources: PackageFile[]
    warnings: FieldError[]
  }
  | {ok: false, errors: FieldError[]}

export interface PackageLimits {
  /** Most files and folders a package may hold. */
  maxEntries?: number
  /** Most bytes of file content a package may hold (for archives: also the decompressed size). */
  maxBytes?: number
}

export const DEFAULT_MAX_ENTRIES = 1000
export const DEFAULT_MAX_BYTES = 20 * 1024 * 1024

const RESOURCE_KEYS = ['descriptionFile', 'icon', 'licenseFile', 'releaseNotes'] as const
const SPECIAL_MODE_BITS = 0o7000

function limitsOf(limits: PackageLimits | undefined): Required<PackageLimits> {
  return {maxEntries: limits?.maxEntries ?? DEFAULT_MAX_ENTRIES, maxBytes: limits?.maxBytes ?? DEFAULT_MAX_BYTES}
}

// ---------------------------------------------------------------- from a directory

/**
 * Reads a package folder. Hidden entries (names starting with `.`, such as `.git` or `.env`)
 * are not part of the package. Links and special files are refused, as in archives.
 */
export async function readPackageFromDirectory(dir: string, limits?: PackageLimits): Promise<PackageResult> {
  const {maxEntries, maxBytes} = limitsOf(limits)
  const f = new Findings()
  try {
    if (!(await stat(dir)).isDirectory()) return {ok: false, errors: [{field: dir, message: 'is not a directory', code: 'not-directory'}]}
  } catch (e) {
    return {ok: false, errors: [{field: dir, message: `cannot be read: ${(e as Error).message}`, code: 'unreadable'}]}
  }
  const files = new Map<string, Uint8Array>()
  let entries = 0
  let total = 0

  const walk = async (relative: string): Promise<boolean> => {
    const names = (await readdir(join(dir, relative))).sort()
    for (const name of names) {
      if (name.startsWith('.')) continue
      const path = relative === '' ? name : `${relative}/${name}`
      entries += 1
      if (entries > maxEntries) { f.error('package', `has more than ${maxEntries} entries`, 'too-many-entries'); return false }
      const info = await lstat(join(dir, path))
      if (info.isSymbolicLink()) { f.error(path, 'is a symbolic link; packages may not contain links', 'link'); continue }
      if ((info.mode & SPECIAL_MODE_BITS) !== 0) { f.error(path, 'has setuid, setgid or sticky bits', 'mode-bits'); continue }
      if (info.isDirectory()) {
        if (!(await walk(path))) return false
        continue
      }
      if (!info.isFile()) { f.error(path, 'is not a regular file', 'special-file'); continue }
      total += info.size
      if (total > maxBytes) { f.error('package', `holds more than ${maxBytes} bytes`, 'too-large'); return false }
      files.set(path, new Uint8Array(await readFile(join(dir, path))))
    }
    return true
  }
  try {
    await walk('')
  } catch (e) {
    f.error(dir, `cannot be read: ${(e as Error).message}`, 'unreadable')
  }
  if (f.errors.length > 0) return {ok: false, errors: f.errors}
  return assemble(files, f)
}

// ---------------------------------------------------------------- from a tar.gz

function entryType(header: Header): string {
  return (header.type as string | null) ?? 'unknown'
}

/**
 * Reads a package archive (tar.gz). The package root is the archive root, or the single
 * top-level folder when everything sits inside one.
 */
export async function readPackageFromTarGz(bytes: Uint8Array, limits?: PackageLimits): Promise<PackageResult> {
  const {maxEntries, maxBytes} = limitsOf(limits)
  const f = new Findings()
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    return {ok: false, errors: [{field: 'package', message: 'is not a gzip-compressed tar archive', code: 'not-gzip'}]}
  }
  // Bounded decompression: a small archive must not expand into gigabytes. Tar headers and
  // padding add at most two blocks per entry plus the end-of-archive marker and record padding.
  const tarLimit = maxBytes + (maxEntries + 1) * 1024 + 10240
  let tar: Uint8Array
  try {
    tar = gunzipSync(bytes, {maxOutputLength: tarLimit})
  } catch (e) {
    const tooBig = e instanceof RangeError || /maxOutputLength|buffer/i.test((e as Error).message)
    return {
      ok: false,
      errors: [tooBig
        ? {field: 'package', message: `expands to more than ${maxBytes} bytes`, code: 'too-large'}
        : {field: 'package', message: `cannot be decompressed: ${(e as Error).message}`, code: 'not-gzip'}],
    }
  }

  const files = new Map<string, Uint8Array>()
  const directories = new Set<string>()
  const seen = new Set<string>()
  let entries = 0
  let total = 0
  let stop = false
  const ex = extract()
  try {
    await new Promise<void>((resolve, reject) => {
      ex.on('entry', (header, stream, next) => {
        const chunks: Uint8Array[] = []
        stream.on('data', (c: unknown) => { if (!stop) chunks.push(c as Uint8Array) })
        stream.on('error', reject)
        stream.on('end', () => {
          if (!stop) checkEntry(header, chunks)
          next()
        })
      })
      ex.on('finish', resolve)
      ex.on('error', reject)
      ex.end(tar)
    })
  } catch (e) {
    if (!stop) f.error('package', `is not a valid tar archive: ${(e as Error).message}`, 'not-tar')
  }

  function checkEntry(header: Header, chunks: Uint8Array[]): void {
    entries += 1
    const raw = header.name
    if (entries > maxEntries) { f.error('package', `has more than ${maxEntries} entries`, 'too-many-entries'); stop = true; return }
    const type = entryType(header)
    // `tar -C dir -czf pkg.tgz .` records the root itself as `./`; it carries nothing.
    if (type === 'directory' && !raw.startsWith('/') && raw.split('/').every(s => s === '' || s === '.')) return
    const path = normaliseRelativePath(raw)
    if (path === null) {
      f.error(raw, raw.startsWith('/') ? 'is an absolute path' : 'is not a safe relative path (".." or odd characters)', 'unsafe-path')
      return
    }
    if (type === 'symlink' || type === 'link') { f.error(raw, `is a ${type === 'link' ? 'hard' : 'symbolic'} link to ${JSON.stringify(header.linkname ?? '')}; packages may not contain links`, 'link'); return }
    if (type !== 'file' && type !== 'directory') { f.error(raw, `is a ${type}; packages may only contain files and folders`, 'special-file'); return }
    if (((header.mode ?? 0) & SPECIAL_MODE_BITS) !== 0) { f.error(raw, 'has setuid, setgid or sticky bits', 'mode-bits'); return }
    if (seen.has(path)) { f.error(raw, 'appears twice in the archive', 'duplicate-entry'); return }
    seen.add(path)
    if (type === 'directory') { directories.add(path); return }
    total += header.size ?? 0
    if (total > maxBytes) { f.error('package', `holds more than ${maxBytes} bytes`, 'too-large'); stop = true; return }
    const body = new Uint8Array(header.size ?? 0)
    let offset = 0
    for (const c of chunks) { body.set(c, offset); offset += c.length }
    files.set(path, body)
  }

  if (f.errors.length > 0) return {ok: false, errors: f.errors}
  return assemble(stripTopFolder(files, directories), f)
}

/** When every entry sits inside one folder, that folder is the package root. */
function stripTopFolder(files: Map<string, Uint8Array>, directories: Set<string>): Map<string, Uint8Array> {
  const tops = new Set<string>()
  for (const p of [...files.keys(), ...directories]) tops.add(p.split('/')[0] ?? p)
  const [top] = tops
  if (tops.size !== 1 || top === undefined || files.has(top)) return files
  const prefix = `${top}/`
  return new Map([...files].map(([p, b]) => [p.slice(prefix.length), b]))
}

// ---------------------------------------------------------------- common

const decoder = new TextDecoder('utf-8', {fatal: true})

function assemble(files: Map<string, Uint8Array>, f: Findings): PackageResult {
  const candidates: {path: string, text: string}[] = []
  const unreadable: FieldError[] = []
  for (const [path, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (path.includes('/') || !/\.ya?ml$/i.test(path)) continue
    let text: string
    try {
      text = decoder.decode(bytes)
    } catch {
      unreadable.push({field: path, message: 'is not UTF-8 text', code: 'encoding'})
      continue
    }
    let kind: unknown
    try {
      const doc: unknown = parse(text)
      kind = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).kind : undefined
    } catch (e) {
      unreadable.push({field: path, message: `is not valid YAML: ${(e as Error).message.split('\n')[0] ?? ''}`, code: 'yaml'})
      continue
    }
    if (kind === 'ApplicationDescription') candidates.push({path, text})
  }

  if (candidates.length === 0) {
    return {ok: false, errors: [{field: 'package', message: 'has no YAML file of kind ApplicationDescription at its root', code: 'no-description'}, ...unreadable]}
  }
  if (candidates.length > 1) {
    return {ok: false, errors: [{field: 'package', message: `has ${candidates.length} ApplicationDescription files at its root (${candidates.map(c => c.path).join(', ')}); exactly one is allowed`, code: 'multiple-descriptions'}]}
  }
  const chosen = candidates[0]!
  f.warnings.push(...unreadable)
  const parsed = parseApplicationDescription(chosen.text)
  if (!parsed.ok) return {ok: false, errors: parsed.errors}
  f.warnings.push(...parsed.warnings)

  const application = parsed.value.metadata.catalog.application ?? {}
  for (const key of RESOURCE_KEYS) {
    const path = application[key]
    if (path !== undefined && !files.has(path)) {
      f.error(`metadata.catalog.application.${key}`, `names ${JSON.stringify(path)}, which is not in the package`, 'missing-resource')
    }
  }
  if (f.errors.length > 0) return {ok: false, errors: f.errors}

  const resources = [...files]
    .filter(([path]) => path !== chosen.path)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, bytes]) => ({path, bytes}))
  return {
    ok: true,
    description: parsed.value,
    descriptionSource: chosen.text,
    descriptionFile: chosen.path,
    resources,
    warnings: f.warnings,
  }
}

export interface PackageContent {
  description: ApplicationDescription
  descriptionSource: string
  descriptionFile: string
  resources: readonly PackageFile[]
}

/**
 * Packs a package into one tar.gz with a single top-level folder named after the application
 * id. Entries are sorted and carry no timestamps or owners, so the same package always gives
 * the same bytes (and digest).
 */
export function writePackageTarGz(pkg: PackageContent): Uint8Array {
  const root = pkg.description.metadata.id
  const files = new Map<string, Uint8Array>()
  const add = (path: string, bytes: Uint8Array) => {
    const safe = normaliseRelativePath(path)
    if (safe === null) throw new RangeError(`not a safe package path: ${path}`)
    files.set(safe, bytes)
  }
  add(pkg.descriptionFile, new TextEncoder().encode(pkg.descriptionSource))
  for (const r of pkg.resources) add(r.path, r.bytes)
  const dirs = new Set<string>([root])
  for (const path of files.keys()) {
    const parts = path.split('/')
    for (let i = 1; i < parts.length; i++) dirs.add(`${root}/${parts.slice(0, i).join('/')}`)
  }
  const entries: TarEntry[] = [
    ...[...dirs].map(path => ({path})),
    ...[...files].map(([path, bytes]) => ({path: `${root}/${path}`, bytes})),
  ]
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return writeTarGz(entries)
}
