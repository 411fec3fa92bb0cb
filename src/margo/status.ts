import {Issues, describe, isRecord, quote, readArray, readKind, readObject, readText, type Json} from './check.ts'
import {checkDocumentBounds} from './limits.ts'
import {joinPath, type FieldError, type Result} from './result.ts'
import {isUuid} from './uuid.ts'

export const STATUS_KIND = 'DeploymentStatusManifest'

export const DEPLOYMENT_STATES = ['pending', 'installing', 'installed', 'failed', 'removing', 'removed'] as const
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number]

export interface StatusError {
  code: string
  message: string
}

export interface ComponentStatus {
  name: string
  state: DeploymentState
  error?: StatusError
}

export interface DeploymentStatusManifest {
  apiVersion: string
  kind: typeof STATUS_KIND
  deploymentId: string
  status: {state: DeploymentState, error?: StatusError}
  components: ComponentStatus[]
}

export function isDeploymentState(value: unknown): value is DeploymentState {
  return typeof value === 'string' && (DEPLOYMENT_STATES as readonly string[]).includes(value)
}

/**
 * Validates a DeploymentStatusManifest. States are the exact lowercase enum. An `error` whose
 * code and message are both empty counts as absent, because the spec's examples send one even
 * while pending. Later additions (`deviceId`, `error.source`, `adoptedManifestVersion`) and
 * unknown members are ignored. Whether `deploymentId` matches the URL and the deployment's
 * components is the caller's business. The document is first held to the bounds of
 * src/margo/limits.ts, like every document a device has the server store.
 */
export function parseDeploymentStatus(json: unknown): Result<DeploymentStatusManifest> {
  if (!isRecord(json)) return {ok: false, errors: [{field: '', message: `must be a JSON object, got ${describe(json)}`}]}
  const bounds = checkDocumentBounds(json)
  if (bounds.length > 0) return {ok: false, errors: bounds}
  const issues = new Issues()
  const apiVersion = readText(issues, json, 'apiVersion', '')
  readKind(issues, json, STATUS_KIND)
  const deploymentId = readText(issues, json, 'deploymentId', '')
  if (deploymentId !== undefined && !isUuid(deploymentId)) issues.add('deploymentId', `must be a UUID, got ${quote(deploymentId)}`)

  const status = readObject(issues, json, 'status', '')
  const state = status ? readState(issues, status, 'status') : undefined
  const error = status ? readError(issues, status, 'status') : undefined

  const components: ComponentStatus[] = []
  readArray(issues, json, 'components', '')?.forEach((entry, i) => {
    const at = joinPath('components', i)
    if (!isRecord(entry)) {
      issues.add(at, `must be an object, got ${describe(entry)}`)
      return
    }
    const name = readText(issues, entry, 'name', at)
    const componentState = readState(issues, entry, at)
    const componentError = readError(issues, entry, at)
    if (name !== undefined && componentState !== undefined) {
      components.push(componentError ? {name, state: componentState, error: componentError} : {name, state: componentState})
    }
  })

  return issues.result(() => ({
    apiVersion: apiVersion!,
    kind: STATUS_KIND,
    deploymentId: deploymentId!,
    status: error ? {state: state!, error} : {state: state!},
    components,
  }))
}

function readState(issues: Issues, parent: Json, path: string): DeploymentState | undefined {
  const value = parent.state
  const at = joinPath(path, 'state')
  if (value === undefined) {
    issues.add(at, 'is required')
    return undefined
  }
  if (!isDeploymentState(value)) {
    issues.add(at, `must be one of ${DEPLOYMENT_STATES.join(', ')}; got ${quote(value)}`)
    return undefined
  }
  return value
}

function readError(issues: Issues, parent: Json, path: string): StatusError | undefined {
  const value = parent.error
  const at = joinPath(path, 'error')
  if (value === undefined || value === null) return undefined
  if (!isRecord(value)) {
    issues.add(at, `must be an object, got ${describe(value)}`)
    return undefined
  }
  const code = typeof value.code === 'number' && Number.isFinite(value.code) ? String(value.code) : value.code
  const message = value.message
  const blank = (v: unknown) => v === undefined || v === null || v === ''
  if (blank(code) && blank(message)) return undefined
  let valid = true
  if (typeof code !== 'string' || code.trim() === '') {
    issues.add(joinPath(at, 'code'), `must be a non-empty string, got ${quote(code)}`)
    valid = false
  }
  if (message !== undefined && typeof message !== 'string') {
    issues.add(joinPath(at, 'message'), `must be a string, got ${quote(message)}`)
    valid = false
  }
  return valid ? {code: code as string, message: (message as string | undefined) ?? ''} : undefined
}

/**
 * Checks a report's components against the deployment (spec §4.2: `components` MUST hold one
 * entry per component of the referenced ApplicationDeployment, named as there). `versions` are
 * the component names of each version of the deployment the device may still be running, newest
 * first: an update can change the set while a report about the previous version is on its way,
 * so a report matching any of them exactly is accepted; problems are named against the newest.
 * No versions known means nothing to check against.
 *
 * An empty list is accepted where the device cannot name components: `failed` with an overall
 * error (it could not read the deployment at all) and `removed` (nothing is left of it).
 */
export function checkComponents(report: Pick<DeploymentStatusManifest, 'status' | 'components'>, versions: readonly (readonly string[])[]): FieldError[] {
  const newest = versions[0]
  if (!newest) return []
  const names = report.components.map(c => c.name)
  if (names.length === 0 && ((report.status.state === 'failed' && report.status.error) || report.status.state === 'removed')) return []
  const errors: FieldError[] = []
  const seen = new Set<string>()
  names.forEach((name, i) => {
    if (seen.has(name)) errors.push({field: joinPath(joinPath('components', i), 'name'), message: `repeats '${name}': send one entry per component`})
    seen.add(name)
  })
  if (errors.length === 0 && versions.some(v => v.length === seen.size && v.every(n => seen.has(n)))) return []
  const expected = new Set(newest)
  const list = newest.map(n => `'${n}'`).join(', ')
  names.forEach((name, i) => {
    if (!expected.has(name)) errors.push({field: joinPath(joinPath('components', i), 'name'), message: `'${name}' is not a component of this deployment (its components: ${list})`})
  })
  const missing = newest.filter(n => !seen.has(n))
  if (missing.length > 0) {
    errors.push({field: 'components', message: `misses ${missing.map(n => `'${n}'`).join(', ')}: send one entry per component of the deployment (${list})`})
  }
  return errors
}

const SEVERITY: readonly DeploymentState[] = ['failed', 'removing', 'installing', 'pending', 'removed', 'installed']

/**
 * The overall state is the most severe component state, in the order
 * failed > removing > installing > pending > removed > installed. The spec's list repeats
 * `removing` and omits `removed`; `removed` belongs just above `installed`, so a deployment
 * reads `installed` only when every component is installed. No components means nothing has
 * started yet.
 */
export function aggregateState(componentStates: readonly DeploymentState[]): DeploymentState {
  if (componentStates.length === 0) return 'pending'
  return SEVERITY.find(s => componentStates.includes(s)) ?? 'pending'
}
