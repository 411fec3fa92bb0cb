/**
 * Registry packages into the catalog. Same rule as uploads: a version is immutable. The same
 * version with the same description is left as it is; with another description it is a conflict,
 * recorded in the sync result and never written over.
 */
import {sha256Digest} from '../../margo/digest.ts'
import {writePackageTarGz, type PackageResult} from '../../margo/package/package.ts'
import type {FieldError} from '../../margo/result.ts'
import type {EventBus} from '../events.ts'
import {setAppVersionSource} from '../store/registries-repo.ts'
import type {Store} from '../store/store.ts'

export type ValidPackage = Extract<PackageResult, {ok: true}>

export type PublishOutcome = {status: 'added' | 'unchanged'} | {status: 'conflict', error: string}

export function publishFromRegistry(store: Store, events: EventBus, registry: string, pkg: ValidPackage, now: string): PublishOutcome {
  const {id: appId, version, name} = pkg.description.metadata
  const conflict = (): PublishOutcome => ({
    status: 'conflict',
    error: `${appId} ${version} is already in the catalog with a different description; versions are immutable — publish the change under a new metadata.version`,
  })
  const existing = store.getAppVersion(appId, version)
  if (existing) return existing.descriptionYaml === pkg.descriptionSource ? {status: 'unchanged'} : conflict()
  const packageBytes = writePackageTarGz(pkg)
  const added = store.transaction(() => {
    // Checked again inside the transaction: an upload may have won the race since.
    const again = store.getAppVersion(appId, version)
    if (again) return again.descriptionYaml === pkg.descriptionSource ? 'unchanged' : 'conflict'
    store.putAppVersion({
      appId, version, name,
      descriptionYaml: pkg.descriptionSource,
      descriptionJson: JSON.stringify(pkg.description),
      packageDigest: sha256Digest(packageBytes),
      packageBytes,
      publishedAt: now,
    })
    setAppVersionSource(store, appId, version, `registry:${registry}`)
    return 'added'
  })
  if (added === 'conflict') return conflict()
  if (added === 'added') events.emit({type: 'app.published', appId, version})
  return {status: added}
}

/** One line for a package's problems, for the sync result. */
export function packageProblems(errors: FieldError[]): string {
  const shown = errors.slice(0, 10).map(e => `${e.field}: ${e.message}`).join('; ')
  return errors.length > 10 ? `${shown}; and ${errors.length - 10} more` : shown
}
