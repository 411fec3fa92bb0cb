import {chmod, mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {gunzip} from 'node:zlib'
import {extract} from 'tar-stream'
import {parse} from 'yaml'
import {DriverError} from './errors.ts'
import {tarHeaderProblem} from './tar-headers.ts'

export const COMPOSE_FILE_NAME = 'compose.yaml'
/** Names people use for compose files that a Margo package must not use; named in the error to help. */
const WRONG_COMPOSE_NAMES = new Set(['compose.yml', 'docker-compose.yaml', 'docker-compose.yml'])

export interface ArchiveLimits {
  maxEntries: number
  /** Sum of the sizes of all files, uncompressed. */
  maxTotalBytes: number
}

/** Compose packages hold a compose file and its configs, not images; these limits leave ample room. */
export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {maxEntries: 2000, maxTotalBytes: 64 * 1024 * 1024}

export interface ArchiveEntry {
  /** Normalised relative path: no `.`, `..` or empty segments, no leading `/`. */
  path: string
  type: 'file' | 'directory'
  /** Permission bits as archived (never with setuid, setgid or sticky). */
  mode: number
  data?: Uint8Array
}

export interface ValidatedArchive {
  /** The top-level directory holding compose.yaml, or '' when compose.yaml sits at the archive root. */
  root: string
  entries: ArchiveEntry[]
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
}

function isTar(bytes: Uint8Array): boolean {
  return bytes.length >= 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar'
}

function invalid(message: string): never {
  throw new DriverError('PACKAGE_INVALID', message)
}

/**
 * Normalises an entry name or refuses it: absolute paths, `..` segments, backslashes and control
 * characters never reach the file system. Returns '' for the archive root itself (`./`).
 */
export function normaliseEntryPath(name: string): string {
  if (name.startsWith('/')) invalid(`archive entry ${JSON.stringify(name)} has an absolute path`)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters in entry names are what this refuses
  if (/[\u0000-\u001f\u007f\\]/.test(name)) invalid(`archive entry ${JSON.stringify(name)} contains a backslash or control character`)
  const segments = name.split('/').filter(s => s !== '' && s !== '.')
  if (segments.includes('..')) invalid(`archive entry ${JSON.stringify(name)} contains '..'`)
  return segments.join('/')
}

/**
 * Reads and validates a gzip-compressed tar in memory before anything is written (spec §3.3):
 * only regular files and directories (every link, device, fifo and entry of a type not known
 * here, such as a GNU sparse file, is refused, so nothing can point outside the package and no
 * file holds bytes other than its content), no absolute or `..` paths, no setuid/setgid/sticky bits, no
 * duplicate paths, entry count and size limits, and exactly one top-level directory holding
 * `compose.yaml`. A `compose.yaml` at the archive root is accepted as well.
 */
export async function readComposeArchive(gz: Uint8Array, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<ValidatedArchive> {
  let tar: Uint8Array
  try {
    // The tar framing adds at most three 512-byte blocks per entry plus the end marker.
    tar = await promisify(gunzip)(gz, {maxOutputLength: limits.maxTotalBytes + (limits.maxEntries * 3 + 4) * 512})
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    return invalid(err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError ? `package decompresses to more than ${limits.maxTotalBytes} bytes` : `package is not a valid gzip file: ${err.message}`)
  }
  const problem = tarHeaderProblem(tar)
  if (problem) invalid(problem)

  const entries: ArchiveEntry[] = []
  const kinds = new Map<string, 'file' | 'directory'>()
  /** Directories known only as parents of other entries so far. */
  const impliedDirs = new Set<string>()
  let total = 0
  const ex = extract()
  const done = (async () => {
    for await (const entry of ex) {
      const h = entry.header
      try {
        // An unknown type is null here; it must never pass for a file.
        const type = h.type ?? 'unknown type'
        if (entries.length >= limits.maxEntries) invalid(`package has more than ${limits.maxEntries} entries`)
        if (type === 'symlink' || type === 'link') invalid(`archive entry ${JSON.stringify(h.name)} is a ${type === 'link' ? 'hard link' : 'symbolic link'} (to ${JSON.stringify(h.linkname ?? '')}); packages may not contain links`)
        if (type !== 'file' && type !== 'directory') invalid(`archive entry ${JSON.stringify(h.name)} is a ${type}; packages may hold only files and directories`)
        const mode = h.mode ?? (type === 'directory' ? 0o755 : 0o644)
        if (mode & 0o7000) invalid(`archive entry ${JSON.stringify(h.name)} has the setuid, setgid or sticky bit set`)
        const path = normaliseEntryPath(h.name)
        if (path === '') {
          if (type !== 'directory') invalid(`archive entry ${JSON.stringify(h.name)} has an empty name`)
          continue
        }
        const implied = impliedDirs.has(path) && type === 'directory'
        if (kinds.has(path) && !implied) invalid(`archive entry ${JSON.stringify(path)} appears more than once`)
        const parts = path.split('/')
        for (let i = 1; i < parts.length; i++) {
          const parent = parts.slice(0, i).join('/')
          const kind = kinds.get(parent)
          if (kind === 'file') invalid(`archive entry ${JSON.stringify(path)} is inside ${JSON.stringify(parent)}, which is a file`)
          if (kind === undefined) {
            kinds.set(parent, 'directory')
            impliedDirs.add(parent)
          }
        }
        impliedDirs.delete(path)
        kinds.set(path, type)
        if (type === 'directory') {
          entries.push({path, type, mode: mode & 0o777})
          continue
        }
        total += h.size ?? 0
        if (total > limits.maxTotalBytes) invalid(`package holds more than ${limits.maxTotalBytes} bytes`)
        const chunks: Uint8Array[] = []
        for await (const chunk of entry) chunks.push(chunk as Uint8Array)
        entries.push({path, type, mode: mode & 0o777, data: Buffer.concat(chunks)})
      } finally {
        entry.resume()
      }
    }
  })()
  ex.end(Buffer.from(tar.buffer, tar.byteOffset, tar.byteLength))
  try {
    await done
  } catch (e) {
    if (e instanceof DriverError) {
      ex.destroy()
      throw e
    }
    invalid(`package is not a valid tar archive: ${(e as Error).message}`)
  }
  if (entries.length === 0) invalid('package archive is empty')
  return {root: composeRoot(kinds), entries}
}

function composeRoot(kinds: ReadonlyMap<string, 'file' | 'directory'>): string {
  if (kinds.get(COMPOSE_FILE_NAME) === 'file') return ''
  const top = [...new Set([...kinds.keys()].map(p => p.split('/')[0]!))].sort()
  const wrongNames = [...kinds.keys()].filter(p => WRONG_COMPOSE_NAMES.has(p.split('/').pop()!) && p.split('/').length <= 2)
  if (top.length !== 1) {
    invalid(`package must hold exactly one top-level directory with ${COMPOSE_FILE_NAME}; found ${top.map(t => JSON.stringify(t)).join(', ')}`)
  }
  const root = top[0]!
  if (kinds.get(root) !== 'directory') invalid(`package must hold a top-level directory with ${COMPOSE_FILE_NAME}; found only the file ${JSON.stringify(root)}`)
  if (kinds.get(`${root}/${COMPOSE_FILE_NAME}`) !== 'file') {
    invalid(wrongNames.length > 0
      ? `package names its compose file ${JSON.stringify(wrongNames[0])}; Margo packages must name it ${COMPOSE_FILE_NAME}`
      : `package has no ${root}/${COMPOSE_FILE_NAME}`)
  }
  return root
}

/**
 * Writes a validated archive into `destDir`, which must be new and empty (so no existing link can
 * redirect a write). Directories get 0755, files 0644, or 0755 when any execute bit was archived;
 * ownership is the agent's.
 */
export async function extractArchive(archive: ValidatedArchive, destDir: string): Promise<void> {
  for (const entry of archive.entries) {
    const target = join(destDir, entry.path)
    if (entry.type === 'directory') {
      await mkdir(target, {recursive: true, mode: 0o755})
      await chmod(target, 0o755)
      continue
    }
    await mkdir(join(target, '..'), {recursive: true, mode: 0o755})
    const mode = entry.mode & 0o111 ? 0o755 : 0o644
    await writeFile(target, entry.data ?? new Uint8Array(), {flag: 'wx', mode})
    await chmod(target, mode)
  }
}

/** Where an unpacked package ended up. */
export interface UnpackedPackage {
  /** The project directory: the directory holding compose.yaml. */
  projectDir: string
  composeFile: string
  form: 'archive' | 'compose-file'
}

/**
 * Unpacks a downloaded package into `destDir` (new and empty): a gzip tar is validated then
 * extracted; anything else must be a compose file itself (spec A17), checked to be a YAML mapping.
 */
export async function unpackComposePackage(bytes: Uint8Array, destDir: string, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<UnpackedPackage> {
  if (isGzip(bytes)) {
    const archive = await readComposeArchive(bytes, limits)
    await extractArchive(archive, destDir)
    const projectDir = archive.root ? join(destDir, archive.root) : destDir
    return {projectDir, composeFile: join(projectDir, COMPOSE_FILE_NAME), form: 'archive'}
  }
  if (isTar(bytes)) invalid('package is an uncompressed tar archive; Margo compose packages are gzip-compressed (tar.gz)')
  if (bytes.length > limits.maxTotalBytes) invalid(`compose file is larger than ${limits.maxTotalBytes} bytes`)
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch {
    return invalid('package is neither a gzip archive nor a UTF-8 compose file')
  }
  let doc: unknown
  try {
    doc = parse(text, {maxAliasCount: 100})
  } catch (e) {
    return invalid(`package is neither a gzip archive nor a valid compose file: ${(e as Error).message.split('\n')[0]}`)
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) invalid('package is neither a gzip archive nor a compose file (a YAML mapping)')
  await mkdir(destDir, {recursive: true, mode: 0o755})
  const composeFile = join(destDir, COMPOSE_FILE_NAME)
  await writeFile(composeFile, bytes, {flag: 'wx', mode: 0o644})
  return {projectDir: destDir, composeFile, form: 'compose-file'}
}
