/** Application packages to and from an OCI registry, in the layout of spec §3.3 (see layout.ts). */
import {normaliseRelativePath} from '../margo/package/paths.ts'
import {DEFAULT_MAX_BYTES, readPackageFromTarGz, type PackageResult} from '../margo/package/package.ts'
import type {ApplicationDescription} from '../margo/package/types.ts'
import {writeTarGz, type TarEntry} from '../util/tar.ts'
import type {OciClient} from './client.ts'
import {OciError} from './errors.ts'
import {buildArtifact, readManifest, type Descriptor} from './layout.ts'
import {OCI_MANIFEST, RESOURCE_KEYS, type ResourceKey} from './media-types.ts'

export interface PushablePackage {
  description: ApplicationDescription
  descriptionSource: string
  descriptionFile: string
  resources: readonly {path: string, bytes: Uint8Array}[]
}

export interface PushResult {
  registry: string
  repository: string
  tag: string
  /** Digest of the manifest now tagged. */
  digest: string
  layers: {mediaType: string, digest: string, size: number, title?: string}[]
  /** Blobs sent now; the others were already in the repository. */
  uploaded: number
  existing: number
}

/**
 * Publishes one package version: every blob (empty config, description, referenced resources),
 * then the manifest under `tag`, which must equal `metadata.version`.
 */
export async function pushPackage(client: OciClient, repository: string, tag: string, pkg: PushablePackage): Promise<PushResult> {
  const version = pkg.description.metadata.version
  if (tag !== version) throw new OciError('usage', `the tag "${tag}" differs from metadata.version "${version}" — push it as ${repository}:${version}`)
  const application = pkg.description.metadata.catalog.application ?? {}
  const references: Partial<Record<ResourceKey, string>> = {}
  for (const key of RESOURCE_KEYS) {
    const path = application[key]
    if (typeof path === 'string') references[key] = path
  }
  const artifact = buildArtifact({
    descriptionFile: pkg.descriptionFile,
    descriptionSource: pkg.descriptionSource,
    version,
    references,
    resources: pkg.resources,
  })
  let uploaded = 0
  for (const blob of artifact.blobs) {
    if ((await client.pushBlob(repository, blob)) === 'uploaded') uploaded++
  }
  const digest = await client.putManifest(repository, tag, artifact.manifestBytes, OCI_MANIFEST)
  return {
    registry: client.baseUrl,
    repository,
    tag,
    digest,
    layers: artifact.manifest.layers.map(l => ({
      mediaType: l.mediaType, digest: l.digest, size: l.size,
      ...(l.annotations?.['org.opencontainers.image.title'] ? {title: l.annotations['org.opencontainers.image.title']} : {}),
    })),
    uploaded,
    existing: artifact.blobs.length - uploaded,
  }
}

export type PulledPackage =
  | {kind: 'margo-app', manifestDigest: string, package: PackageResult}
  /** Not a Margo application package (an image, an index, another artifact): nothing to do. */
  | {kind: 'other', manifestDigest: string, reason: string}
  | {kind: 'invalid', manifestDigest: string, reason: string}

/**
 * Fetches one package version by tag or digest and reads it exactly as an uploaded archive is
 * read, so a registry package passes the same checks as `margo app publish`.
 */
export async function pullPackage(client: OciClient, repository: string, reference: string, maxBytes = DEFAULT_MAX_BYTES): Promise<PulledPackage> {
  const fetched = await client.getManifest(repository, reference)
  const reading = readManifest(fetched.bytes, fetched.mediaType)
  if (reading.kind !== 'margo-app') return {...reading, manifestDigest: fetched.digest}
  const total = [reading.description, ...reading.resources.map(r => r.descriptor)].reduce((n, d: Descriptor) => n + d.size, 0)
  if (total > maxBytes) return {kind: 'invalid', manifestDigest: fetched.digest, reason: `the package is ${total} bytes, more than the ${maxBytes} allowed`}
  const entries: TarEntry[] = [{path: 'package'}]
  const description = await client.getBlob(repository, reading.description, maxBytes)
  entries.push({path: `package/${reading.descriptionFile}`, bytes: description})
  const dirs = new Set<string>()
  for (const r of reading.resources) {
    const path = (r.title !== undefined ? normaliseRelativePath(r.title) : null) ?? `resources/${r.key}`
    const parts = path.split('/')
    for (let i = 1; i < parts.length; i++) dirs.add(`package/${parts.slice(0, i).join('/')}`)
    entries.push({path: `package/${path}`, bytes: await client.getBlob(repository, r.descriptor, maxBytes)})
  }
  for (const d of dirs) entries.push({path: d})
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  let tarGz: Uint8Array
  try {
    tarGz = writeTarGz(entries)
  } catch (e) {
    return {kind: 'invalid', manifestDigest: fetched.digest, reason: `cannot assemble the package: ${(e as Error).message}`}
  }
  return {kind: 'margo-app', manifestDigest: fetched.digest, package: await readPackageFromTarGz(tarGz, {maxBytes})}
}
