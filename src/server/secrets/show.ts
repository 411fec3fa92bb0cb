/**
 * A deployment's YAML as an operator may see it (dry runs, diffs): the stored bytes when its
 * values refer to no secret, else rendered again from its stored values with `<secret:NAME>`
 * where the device gets the value. The stored bytes are never shown then: they hold the value
 * the secret had when they were rendered.
 */
import {findAppVersion} from '../catalog/catalog-service.ts'
import {buildApplicationDeployment} from '../deployments/build.ts'
import type {ApplicationDescription, DeploymentProfile, ParamValue} from '../../margo/package/types.ts'
import type {DeploymentRecord, Store} from '../store/store.ts'
import {hasReferences, showReferences} from './references.ts'

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** The YAML of `values` (stored form, references kept) with references shown; null when there are none. */
export function shownYaml(description: ApplicationDescription, profile: DeploymentProfile, deploymentId: string, values: Record<string, ParamValue>): string | null {
  if (!hasReferences(values)) return null
  return buildApplicationDeployment({description, profile, deploymentId, values: showReferences(values) as Record<string, ParamValue>}).yaml
}

export function shownDeploymentYaml(store: Store, d: DeploymentRecord): string {
  const stored = (JSON.parse(d.valuesJson) as {resolved: Record<string, ParamValue>}).resolved
  if (hasReferences(stored)) {
    const {description} = findAppVersion(store, d.appId, d.appVersion)
    const profile = description.deploymentProfiles.find(p => p.id === d.profileId)
    const shown = profile ? shownYaml(description, profile, d.deploymentId, stored) : null
    return shown ?? ''
  }
  const artifact = store.getArtifact(d.digest)
  return artifact ? text(artifact.bytes) : ''
}
