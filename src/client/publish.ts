import {readFileSync, statSync} from 'node:fs'
import {ValidationError, UsageError} from '../util/errors.ts'
import type {OperatorClient, PackageMediaType, PublishResult} from './operator-client.ts'

export type PublishSource = 'description' | 'archive' | 'directory'

export interface PublishPayload {
  path: string
  source: PublishSource
  contentType: PackageMediaType
  bytes: Uint8Array
}

const GZIP_MAGIC = [0x1f, 0x8b]

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]
}

/**
 * Turns what the operator points at into the body of POST /apps: a `margo.yaml` is sent as
 * YAML, a `.tar.gz` as is, and a package directory is checked and packed locally first so that
 * its problems are reported before anything is uploaded.
 */
export async function loadPublishPayload(path: string): Promise<PublishPayload> {
  let isDirectory: boolean
  try {
    isDirectory = statSync(path).isDirectory()
  } catch (err) {
    throw new UsageError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} — pass a margo.yaml, a package .tar.gz or a package directory`,
      {cause: err},
    )
  }
  if (isDirectory) return packDirectory(path)

  const bytes = new Uint8Array(readFileSync(path))
  // Content decides, not the name: a renamed archive still goes up as an archive.
  if (isGzip(bytes)) return {path, source: 'archive', contentType: 'application/gzip', bytes}
  if (/\.(tar\.gz|tgz)$/i.test(path)) {
    throw new UsageError(`${path} is named like a package archive but is not gzip data — rebuild it with: margo app publish <package-dir>`)
  }
  return {path, source: 'description', contentType: 'application/yaml', bytes}
}

async function packDirectory(dir: string): Promise<PublishPayload> {
  // Loaded on demand: only directory publishing needs the packer and its archive dependencies.
  const {readPackageFromDirectory, writePackageTarGz} = await import('../margo/package/package.ts')
  const pkg = await readPackageFromDirectory(dir)
  if (!pkg.ok) {
    throw new ValidationError(
      `package ${dir} is invalid — fix these and publish again`,
      pkg.errors.map(e => ({path: e.field, message: e.message})),
      {code: 'invalid_package'},
    )
  }
  return {path: dir, source: 'directory', contentType: 'application/gzip', bytes: writePackageTarGz(pkg)}
}

export async function publishApp(client: OperatorClient, path: string): Promise<PublishResult & {source: PublishSource}> {
  const payload = await loadPublishPayload(path)
  const result = await client.publishApp(payload.bytes, payload.contentType)
  return {...result, source: payload.source}
}
