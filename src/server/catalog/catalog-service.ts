import {sha256Digest} from '../../margo/digest.ts'
import {conflict, invalid, notFound} from '../domain-errors.ts'
import type {EventBus} from '../events.ts'
import type {AppVersionRecord, Store} from '../store/store.ts'
import {parseApplicationDescription, type ApplicationDescription} from '../../margo/package/description.ts'
import {readPackageFromTarGz} from '../../margo/package/package.ts'
import {latestVersion} from './versions.ts'

const isGzip = (bytes: Uint8Array) => bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b

export interface CatalogDeps {
  store: Store
  events: Pick<EventBus, 'emit'>
  now: () => Date
}

export interface PublishResult {
  created: boolean
  record: AppVersionRecord
}

/**
 * Add an application version to the catalog from a `margo.yaml` or a package `.tar.gz`.
 * Versions are immutable: publishing the same version again with the same description is a
 * no-op, with a different one a conflict.
 */
export async function publishApp({store, events, now: clock}: CatalogDeps, upload: {bytes: Uint8Array}): Promise<PublishResult> {
  const now = clock().toISOString()
  let description: ApplicationDescription
  let source: string
  let packageBytes: Uint8Array | null = null
  if (isGzip(upload.bytes)) {
    const pkg = await readPackageFromTarGz(upload.bytes)
    if (!pkg.ok) throw invalid('invalid_package', `the application package is invalid (${pkg.errors.length} problem(s))`, pkg.errors)
    description = pkg.description
    source = pkg.descriptionSource
    packageBytes = upload.bytes
  } else {
    source = new TextDecoder().decode(upload.bytes)
    const parsed = parseApplicationDescription(source)
    if (!parsed.ok) throw invalid('invalid_description', `the ApplicationDescription is invalid (${parsed.errors.length} problem(s)) — run: margo app lint`, parsed.errors)
    description = parsed.value
  }
  const appId = description.metadata.id
  const version = description.metadata.version
  const existing = store.getAppVersion(appId, version)
  if (existing) {
    if (existing.descriptionYaml === source) return {created: false, record: existing}
    throw conflict(`${appId} version ${version} is already published with different content — publish it under a new metadata.version`)
  }
  const record: AppVersionRecord = {
    appId,
    version,
    name: description.metadata.name,
    descriptionYaml: source,
    descriptionJson: JSON.stringify(description),
    packageDigest: packageBytes ? sha256Digest(packageBytes) : null,
    publishedAt: now,
  }
  store.putAppVersion({...record, packageBytes})
  events.emit({type: 'app.published', appId, version})
  return {created: true, record}
}

/** The version asked for, or the latest one. */
export function findAppVersion(store: Pick<Store, 'listAppVersions'>, appId: string, version?: string): {record: AppVersionRecord, description: ApplicationDescription} {
  const versions = store.listAppVersions(appId)
  if (versions.length === 0) throw notFound('app', appId, 'run: margo app list')
  const wanted = version ?? latestVersion(versions.map(v => v.version))!
  const record = versions.find(v => v.version === wanted)
  if (!record) throw notFound('app', `${appId}@${wanted}`, `published versions: ${versions.map(v => v.version).join(', ')}`)
  return {record, description: JSON.parse(record.descriptionJson) as ApplicationDescription}
}

/** The catalog as the server uses it, bound to its dependencies once. */
export function createCatalogService(deps: CatalogDeps) {
  return {
    publish: (upload: {bytes: Uint8Array}) => publishApp(deps, upload),
    find: (appId: string, version?: string) => findAppVersion(deps.store, appId, version),
  }
}

export type CatalogService = ReturnType<typeof createCatalogService>
