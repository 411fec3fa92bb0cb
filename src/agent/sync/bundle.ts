import {gunzipSync} from 'node:zlib'
import {extract, type Header} from 'tar-stream'
import {sha256Digest, verifyDigest} from '../../margo/digest.ts'
import type {StateManifest} from '../../margo/manifest.ts'

export interface BundleLimits {
  /** Ceiling on the decompressed tar, so a small archive cannot expand without bound. */
  maxUncompressedBytes?: number
  /** Ceiling on any one entry. */
  maxEntryBytes?: number
}

export const DEFAULT_BUNDLE_LIMITS: Required<BundleLimits> = {
  maxUncompressedBytes: 64 * 1024 * 1024,
  maxEntryBytes: 8 * 1024 * 1024,
}

export type BundleResult = {ok: true, yamls: Map<string, Uint8Array>} | {ok: false, reason: string}

/**
 * Reads a deployment bundle (spec §2.4, A11) into the exact YAML bytes per deploymentId.
 *
 * The archive digest is checked before a single byte is decompressed. Entries are matched to
 * deployments by their sha256, never by file name, and the archive must hold exactly one
 * entry per deployment and nothing else. Only regular files at the root are allowed: a `./`
 * prefix is still the root, and an entry naming the root itself (`./`, as `tar -C dir .`
 * writes) carries no content and is skipped; any other directory, link, device, FIFO, `..`
 * segment or absolute path refuses the archive. Nothing is written to disk here. Whether each
 * YAML names the deployment it was matched to is `checkDeploymentYaml`'s job.
 */
export async function readBundle(bytes: Uint8Array, manifest: StateManifest, limits: BundleLimits = {}): Promise<BundleResult> {
  const max = {...DEFAULT_BUNDLE_LIMITS, ...limits}
  if (manifest.bundle === null) return {ok: false, reason: 'the manifest has no bundle'}
  if (!verifyDigest(bytes, manifest.bundle.digest)) {
    return {ok: false, reason: `bundle digest ${sha256Digest(bytes)} does not match ${manifest.bundle.digest}`}
  }

  let tar: Buffer
  try {
    tar = gunzipSync(bytes, {maxOutputLength: max.maxUncompressedBytes})
  } catch (e) {
    const code = (e as {code?: string}).code
    return {ok: false, reason: code === 'ERR_BUFFER_TOO_LARGE' ? `bundle expands beyond ${max.maxUncompressedBytes} bytes` : `bundle is not valid gzip: ${(e as Error).message}`}
  }

  // deployments waiting for an entry, per digest; two deployments may not share bytes in
  // practice (each YAML names its own id), but counting keeps the rule exact if they did
  const wanted = new Map<string, string[]>()
  for (const ref of manifest.deployments) wanted.set(ref.digest, [...(wanted.get(ref.digest) ?? []), ref.deploymentId])
  const yamls = new Map<string, Uint8Array>()

  const walk = extract()
  const done = (async () => {
    for await (const entry of walk) {
      const problem = entryProblem(entry.header, max.maxEntryBytes)
      if (problem === 'skip') {
        entry.resume()
        continue
      }
      if (problem !== null) return problem
      const chunks: Uint8Array[] = []
      let size = 0
      for await (const chunk of entry as AsyncIterable<Uint8Array>) {
        size += chunk.length
        if (size > max.maxEntryBytes) return `entry ${JSON.stringify(entry.header.name)} is larger than ${max.maxEntryBytes} bytes`
        chunks.push(chunk)
      }
      const content = Buffer.concat(chunks)
      const digest = sha256Digest(content)
      const ids = wanted.get(digest)
      if (ids === undefined || ids.length === 0) {
        return `entry ${JSON.stringify(entry.header.name)} (${digest}) is not a deployment of this manifest or appears twice`
      }
      yamls.set(ids.shift()!, new Uint8Array(content))
    }
    return null
  })()

  walk.end(tar)
  let problem: string | null
  try {
    problem = await done
  } catch (e) {
    return {ok: false, reason: `bundle is not a valid tar archive: ${(e as Error).message}`}
  } finally {
    walk.destroy()
  }
  if (problem !== null) return {ok: false, reason: problem}

  const missing = manifest.deployments.filter(ref => !yamls.has(ref.deploymentId)).map(ref => ref.deploymentId)
  if (missing.length > 0) return {ok: false, reason: `bundle lacks deployment ${missing.join(', ')}`}
  return {ok: true, yamls}
}

/** Null when the entry may be read, 'skip' for the root directory entry, else why the archive is refused. */
function entryProblem(header: Header, maxEntryBytes: number): string | null | 'skip' {
  const name = header.name
  const shown = JSON.stringify(name)
  if (header.type === 'directory' && (name === './' || name === '.')) return 'skip'
  if (header.type !== 'file' && header.type !== 'contiguous-file') return `entry ${shown} is a ${header.type ?? 'unknown type'}, only regular files are allowed`
  if (name.includes('\0') || name.includes('\\')) return `entry ${shown} has an unusable name`
  if (name.startsWith('/')) return `entry ${shown} has an absolute path`
  const path = name.startsWith('./') ? name.slice(2) : name
  if (path === '' || path === '.' || path === '..') return `entry ${shown} has no file name`
  if (path.includes('/')) return `entry ${shown} is not at the archive root`
  if ((header.size ?? 0) > maxEntryBytes) return `entry ${shown} is larger than ${maxEntryBytes} bytes`
  return null
}
