/**
 * Secrets as the server uses them: set (create or rotate), list, delete, and read for rendering.
 * Rotating a secret re-renders every present deployment that refers to it (same deploymentId,
 * new YAML and digest) in one transaction with the value and the manifests that announce it,
 * so devices update in place. A secret still referred to cannot be deleted.
 */
import {sha256Digest} from '../../margo/digest.ts'
import {YAML_MEDIA_TYPE} from '../../margo/media-types.ts'
import {findAppVersion} from '../catalog/catalog-service.ts'
import {buildApplicationDeployment} from '../deployments/build.ts'
import {publishManifest} from '../desired-state/publish.ts'
import {conflict, invalid, notFound} from '../domain-errors.ts'
import type {EventBus} from '../events.ts'
import {listRollouts} from '../store/rollouts-repo.ts'
import {deleteSecretRow, getSecretRow, listSecretRows, putSecretRow} from '../store/secrets-repo.ts'
import type {DeploymentRecord, Store} from '../store/store.ts'
import type {SecretChange, SecretInfo} from '../../operator-contract/views.ts'
import type {SecretBox} from './cipher.ts'
import {isSecretName, secretUses} from './references.ts'
import {renderStored, type SecretReader} from './resolve.ts'

/** Large enough for a certificate bundle or a kubeconfig; a deployment YAML carries it. */
export const MAX_SECRET_BYTES = 64 * 1024

export interface SecretDeps {
  store: Store
  events: Pick<EventBus, 'emit'>
  now: () => Date
  box: SecretBox
}

export type SecretUsage = SecretInfo['usedBy']

const storedValues = (d: DeploymentRecord) => (JSON.parse(d.valuesJson) as {resolved: Record<string, unknown>}).resolved

/** Reads values from the store through the box; a value that does not open is an error, never a silent miss. */
export function secretReader(store: Store, box: SecretBox): SecretReader {
  return name => {
    const row = getSecretRow(store, name)
    return row ? box.open(name, row) : null
  }
}

function usage(store: Store, name: string): SecretUsage {
  return {
    rollouts: listRollouts(store).filter(r => secretUses(r.values).has(name)).map(r => r.name),
    deployments: store.listDeployments({desired: 'present'}).filter(d => secretUses(storedValues(d)).has(name)).map(d => d.deploymentId),
  }
}

function checkName(name: string) {
  if (!isSecretName(name)) {
    throw invalid('invalid_name', `secret name ${JSON.stringify(name)} is invalid: 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit`, [{path: 'name', message: 'invalid secret name'}])
  }
}

/** Renders one deployment again with the secrets as they are now; null when its YAML does not change. */
function rerender(store: Store, d: DeploymentRecord, read: SecretReader) {
  const {description} = findAppVersion(store, d.appId, d.appVersion)
  const profile = description.deploymentProfiles.find(p => p.id === d.profileId)
  if (!profile) throw conflict(`deployment ${d.deploymentId}: ${d.appId}@${d.appVersion} has no profile ${d.profileId} any more`)
  const values = renderStored(description, storedValues(d), read)
  if (!values.ok) {
    throw invalid('invalid_parameters', `the new value does not fit deployment ${d.deploymentId} of ${d.appId} on device ${d.clientId}; nothing was changed`,
      values.errors.map(e => ({path: `${d.deploymentId}: ${e.field}`, message: e.message})))
  }
  const built = buildApplicationDeployment({description, profile, deploymentId: d.deploymentId, values: values.rendered})
  const digest = sha256Digest(built.bytes)
  return digest === d.digest ? null : {bytes: built.bytes, digest}
}

export function setSecret({store, events, now: clock, box}: SecretDeps, name: string, value: string, actor: string): SecretChange {
  checkName(name)
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) throw invalid('secret_too_large', `a secret holds at most ${MAX_SECRET_BYTES} bytes`, [{path: 'value', message: 'too large'}])
  const now = clock().toISOString()
  const existed = getSecretRow(store, name) !== null
  const rerendered: SecretChange['rerendered'] = []
  const changed: DeploymentRecord[] = []
  store.transaction(() => {
    putSecretRow(store, {name, ...box.seal(name, value), updatedAt: now, updatedBy: actor})
    const read = secretReader(store, box)
    for (const d of store.listDeployments({desired: 'present'})) {
      if (!secretUses(storedValues(d)).has(name)) continue
      const next = rerender(store, d, read)
      if (!next) continue
      store.putArtifact(next.digest, YAML_MEDIA_TYPE, next.bytes, now)
      const updated = {...d, digest: next.digest, updatedAt: now}
      store.updateDeployment(updated)
      changed.push(updated)
      rerendered.push({deploymentId: d.deploymentId, clientId: d.clientId, digest: next.digest})
    }
    for (const clientId of new Set(changed.map(d => d.clientId))) publishManifest(store, clientId, now)
  })
  for (const d of changed) events.emit({type: 'deployment.changed', deploymentId: d.deploymentId, clientId: d.clientId})
  return {...info(store, name), created: !existed, rerendered}
}

function info(store: Store, name: string): SecretInfo {
  const row = getSecretRow(store, name)
  if (!row) throw notFound('secret', name, 'run: margo secret list')
  return {name, createdAt: row.createdAt, updatedAt: row.updatedAt, updatedBy: row.updatedBy, usedBy: usage(store, name)}
}

export function listSecrets(store: Store): SecretInfo[] {
  return listSecretRows(store).map(r => ({name: r.name, createdAt: r.createdAt, updatedAt: r.updatedAt, updatedBy: r.updatedBy, usedBy: usage(store, r.name)}))
}

/** Deletes an unused secret; one a rollout or deployment still refers to is refused (409) naming them. */
export function deleteSecret(store: Store, name: string): {name: string} {
  const current = info(store, name)
  const {rollouts, deployments} = current.usedBy
  if (rollouts.length > 0 || deployments.length > 0) {
    const parts = [
      rollouts.length > 0 ? `rollout(s) ${rollouts.join(', ')}` : '',
      deployments.length > 0 ? `deployment(s) ${deployments.join(', ')}` : '',
    ].filter(Boolean)
    throw conflict(`secret ${name} is in use by ${parts.join(' and ')} — change their values first, or undeploy them`, 'secret_in_use')
  }
  store.transaction(() => deleteSecretRow(store, name))
  return {name}
}

export function createSecretService(deps: SecretDeps) {
  return {
    set: (name: string, value: string, actor: string) => setSecret(deps, name, value, actor),
    list: () => listSecrets(deps.store),
    remove: (name: string) => deleteSecret(deps.store, name),
    reader: () => secretReader(deps.store, deps.box),
  }
}

export type SecretService = ReturnType<typeof createSecretService>
