import {isScalar, parseDocument, type Document} from 'yaml'
import {Issues, describe, isRecord, matchEnum, quote, readArray, readKind, readObject, readText, type Json} from './check.ts'
import {joinPath, type Result} from './result.ts'
import {isUuid} from './uuid.ts'
import {PROFILE_TYPES, PROFILE_TYPE_ALIASES, type ProfileType} from './vocabulary.ts'

export const DEPLOYMENT_KIND = 'ApplicationDeployment'
export const DEPLOYMENT_API_VERSION = 'application.margo.org/v1alpha1'
export const COMPONENT_NAME_PATTERN = /^[a-z0-9-]+$/

export type ParameterScalar = string | number | boolean
export type ParameterValue = ParameterScalar | ParameterScalar[]

export interface ParameterTarget {
  /** Helm: a values.yaml dot-path as for `--set`. Compose: an environment variable name. */
  pointer: string
  components: string[]
}

export interface DeploymentParameter {
  value: ParameterValue
  targets: ParameterTarget[]
}

export interface ComponentProperties {
  /** Helm chart URL (or, in later Compose profiles, an OCI artefact). */
  repository?: string
  /** Chart version exactly as written: `1.10` stays `1.10`. */
  revision?: string
  packageLocation?: string
  keyLocation?: string
  /** Install the next component only once this one is up. Defaults to true. */
  wait: boolean
  timeout?: string
  timeoutSeconds?: number
}

export interface DeploymentComponent {
  name: string
  properties: ComponentProperties
}

export interface ApplicationDeployment {
  apiVersion: string
  kind: typeof DEPLOYMENT_KIND
  metadata: {
    name: string
    namespace?: string
    annotations: {id: string, applicationId?: string}
    labels?: Record<string, string>
  }
  spec: {
    deploymentProfile: {type: ProfileType, components: DeploymentComponent[]}
    /** Empty when the document has none. */
    parameters: Record<string, DeploymentParameter>
  }
}

/**
 * Reads an ApplicationDeployment as a device receives it. Strict where acting on a wrong
 * value would do harm (ids, profile type, component names, what to install) and lenient about
 * what varies between spec versions and real WFMs:
 * - the id comes from `metadata.annotations.id`, else a top-level `id`;
 * - `applicationId` from the annotation, else `spec.applicationId`; it, `namespace` and
 *   `parameters` may be missing;
 * - profile type `helm` means `helm.v3`;
 * - `wait: "true"`/`"false"` are read as booleans;
 * - a Compose pointer's legacy `ENV.` prefix is dropped;
 * - unknown members and `x-*-extensions` are ignored.
 */
export function parseApplicationDeployment(yamlText: string): Result<ApplicationDeployment> {
  const doc = parseDocument(yamlText, {uniqueKeys: true})
  if (doc.errors.length > 0) return {ok: false, errors: doc.errors.map(e => ({field: '', message: `is not valid YAML: ${e.message.split('\n')[0]}`}))}
  let json: unknown
  try {
    json = doc.toJS({maxAliasCount: 100})
  } catch (e) {
    return {ok: false, errors: [{field: '', message: `is not usable YAML: ${(e as Error).message}`}]}
  }
  if (!isRecord(json)) return {ok: false, errors: [{field: '', message: `must be a YAML mapping, got ${describe(json)}`}]}

  const issues = new Issues()
  const apiVersion = readText(issues, json, 'apiVersion', '')
  readKind(issues, json, DEPLOYMENT_KIND)
  const metadata = readObject(issues, json, 'metadata', '')
  const annotations = metadata ? readObject(issues, metadata, 'annotations', 'metadata', false) : undefined
  const spec = readObject(issues, json, 'spec', '')

  const id = readId(issues, json, annotations)
  const name = metadata ? readText(issues, metadata, 'name', 'metadata') : undefined
  const namespace = metadata ? readText(issues, metadata, 'namespace', 'metadata', false) : undefined
  const labels = metadata ? readLabels(issues, metadata) : undefined
  const applicationId = (annotations && readText(issues, annotations, 'applicationId', 'metadata.annotations', false))
    ?? (spec && readText(issues, spec, 'applicationId', 'spec', false))

  const {profile, names} = spec ? readProfile(issues, doc, spec) : {profile: undefined, names: new Set<string>()}
  const parameters = spec && profile ? readParameters(issues, spec, profile.type, names) : {}

  return issues.result(() => ({
    apiVersion: apiVersion!,
    kind: DEPLOYMENT_KIND,
    metadata: {
      name: name!,
      ...(namespace !== undefined && {namespace}),
      annotations: {id: id!, ...(applicationId !== undefined && {applicationId})},
      ...(labels !== undefined && {labels}),
    },
    spec: {deploymentProfile: profile!, parameters},
  }))
}

function readId(issues: Issues, json: Json, annotations: Json | undefined): string | undefined {
  const fromAnnotation = annotations?.id
  const topLevel = json.id
  if (fromAnnotation === undefined && topLevel === undefined) {
    issues.add('metadata.annotations.id', 'is required')
    return undefined
  }
  const field = fromAnnotation !== undefined ? 'metadata.annotations.id' : 'id'
  const id = fromAnnotation ?? topLevel
  if (!isUuid(id)) {
    issues.add(field, `must be a UUID, got ${quote(id)}`)
    return undefined
  }
  if (fromAnnotation !== undefined && topLevel !== undefined && String(topLevel).toLowerCase() !== id.toLowerCase()) {
    issues.add('id', `must equal metadata.annotations.id (${id}), got ${quote(topLevel)}`)
    return undefined
  }
  return id
}

function readLabels(issues: Issues, metadata: Json): Record<string, string> | undefined {
  const labels = readObject(issues, metadata, 'labels', 'metadata', false)
  if (!labels) return undefined
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(labels)) {
    if (typeof value === 'string') out[key] = value
    else issues.add(joinPath('metadata.labels', key), `must be a string, got ${describe(value)}`)
  }
  return out
}

type Profile = ApplicationDeployment['spec']['deploymentProfile']

/** The profile, plus every component name written, so parameter targets are checked against names even when a component has other faults. */
function readProfile(issues: Issues, doc: Document, spec: Json): {profile?: Profile, names: Set<string>} {
  const path = 'spec.deploymentProfile'
  const profile = readObject(issues, spec, 'deploymentProfile', 'spec')
  if (!profile) return {names: new Set()}
  const type = matchEnum(profile.type, PROFILE_TYPES, PROFILE_TYPE_ALIASES)
  if (!type) issues.add(joinPath(path, 'type'), profile.type === undefined ? 'is required' : `must be one of ${PROFILE_TYPES.join(', ')} (or helm); got ${quote(profile.type)}`)
  const list = readArray(issues, profile, 'components', path)
  if (list && list.length === 0) issues.add(joinPath(path, 'components'), 'must list at least one component')
  const components: DeploymentComponent[] = []
  const names = new Set<string>()
  list?.forEach((entry, i) => {
    const at = joinPath(joinPath(path, 'components'), i)
    if (!isRecord(entry)) {
      issues.add(at, `must be an object, got ${describe(entry)}`)
      return
    }
    const name = readText(issues, entry, 'name', at)
    if (name !== undefined) {
      if (!COMPONENT_NAME_PATTERN.test(name)) issues.add(joinPath(at, 'name'), `must contain only lowercase letters, digits and '-', got ${quote(name)}`)
      else if (names.has(name)) issues.add(joinPath(at, 'name'), `duplicates an earlier component: ${name}`)
      names.add(name)
    }
    const props = readObject(issues, entry, 'properties', at)
    const properties = props && type ? readComponentProperties(issues, doc, props, type, joinPath(at, 'properties'), i) : undefined
    if (name !== undefined && properties) components.push({name, properties})
  })
  return type ? {profile: {type, components}, names} : {names}
}

function readComponentProperties(issues: Issues, doc: Document, props: Json, type: ProfileType, path: string, index: number): ComponentProperties | undefined {
  const before = issues.errors.length
  const out: ComponentProperties = {wait: readWait(issues, props, path)}
  const repository = readText(issues, props, 'repository', path, type === 'helm.v3')
  if (repository !== undefined) out.repository = repository
  const revision = readRevision(issues, doc, props, path, index, type === 'helm.v3')
  if (revision !== undefined) out.revision = revision
  if (type === 'compose') {
    // G1 Compose names a package URL; later versions an OCI repository instead. One is needed.
    const packageLocation = readText(issues, props, 'packageLocation', path, repository === undefined)
    if (packageLocation !== undefined) out.packageLocation = packageLocation
    const keyLocation = readText(issues, props, 'keyLocation', path, false)
    if (keyLocation !== undefined) out.keyLocation = keyLocation
  }
  const timeout = readTimeout(issues, props, path)
  if (timeout) Object.assign(out, timeout)
  return issues.errors.length === before ? out : undefined
}

/** The revision as written in the YAML text, so `1.10` is not turned into the number 1.1. */
function readRevision(issues: Issues, doc: Document, props: Json, path: string, index: number, required: boolean): string | undefined {
  const value = props.revision
  const at = joinPath(path, 'revision')
  if (value === undefined || value === null) {
    if (required) issues.add(at, 'is required')
    return undefined
  }
  if (typeof value === 'number') {
    const node = doc.getIn(['spec', 'deploymentProfile', 'components', index, 'properties', 'revision'], true)
    return isScalar(node) && typeof node.source === 'string' ? node.source : String(value)
  }
  if (typeof value !== 'string' || value.trim() === '') {
    issues.add(at, `must be a non-empty string, got ${quote(value)}`)
    return undefined
  }
  return value
}

function readWait(issues: Issues, props: Json, path: string): boolean {
  const value = props.wait
  if (value === undefined || value === null) return true
  if (typeof value === 'boolean') return value
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true'
  issues.add(joinPath(path, 'wait'), `must be true or false, got ${quote(value)}`)
  return true
}

/** `8m30s`-style durations (hours allowed too); a bare number means seconds. */
function readTimeout(issues: Issues, props: Json, path: string): {timeout: string, timeoutSeconds: number} | undefined {
  const value = props.timeout
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return {timeout: `${value}s`, timeoutSeconds: value}
  const m = typeof value === 'string' ? /^\s*(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?\s*$/.exec(value) : null
  const seconds = m && (m[1] || m[2] || m[3]) ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) : 0
  if (!m || seconds <= 0) {
    issues.add(joinPath(path, 'timeout'), `must be a duration such as '8m30s', got ${quote(value)}`)
    return undefined
  }
  return {timeout: (value as string).trim(), timeoutSeconds: seconds}
}

function isScalarValue(v: unknown): v is ParameterScalar {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
}

function readParameters(issues: Issues, spec: Json, type: ProfileType, names: ReadonlySet<string>): Record<string, DeploymentParameter> {
  const params = readObject(issues, spec, 'parameters', 'spec', false)
  const out: Record<string, DeploymentParameter> = {}
  if (!params) return out
  for (const [key, entry] of Object.entries(params)) {
    const at = joinPath('spec.parameters', key)
    if (!isRecord(entry)) {
      issues.add(at, `must be an object, got ${describe(entry)}`)
      continue
    }
    const value = entry.value
    const valueOk = isScalarValue(value) || (Array.isArray(value) && value.every(isScalarValue))
    if (!valueOk) issues.add(joinPath(at, 'value'), value === undefined || value === null ? 'is required' : `must be a string, number, boolean or a list of them, got ${describe(value)}`)
    const targets: ParameterTarget[] = []
    readArray(issues, entry, 'targets', at)?.forEach((target, i) => {
      const where = joinPath(joinPath(at, 'targets'), i)
      if (!isRecord(target)) {
        issues.add(where, `must be an object, got ${describe(target)}`)
        return
      }
      let pointer = readText(issues, target, 'pointer', where)
      if (pointer !== undefined && type === 'compose') pointer = pointer.replace(/^ENV\./, '')
      const components: string[] = []
      readArray(issues, target, 'components', where)?.forEach((c, j) => {
        if (typeof c === 'string' && names.has(c)) components.push(c)
        else issues.add(joinPath(joinPath(where, 'components'), j), `must name a component of this deployment, got ${quote(c)}`)
      })
      if (pointer !== undefined) targets.push({pointer, components})
    })
    if (valueOk) out[key] = {value: value as ParameterValue, targets}
  }
  return out
}
