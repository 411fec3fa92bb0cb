import {readFileSync} from 'node:fs'
import {parse as parseYaml} from 'yaml'
import {UsageError} from '../util/errors.ts'
import type {OperatorClient} from './operator-client.ts'
import type {Deployment} from '../operator-contract/views.ts'
import type {CreateDeploymentRequest} from '../operator-contract/requests.ts'

export interface AppRef {
  appId: string
  version?: string
}

export interface DeployOptions {
  /** `appId` or `appId@version`. */
  app: string
  clientId: string
  /** `helm.v3`, `compose` or a profile id; the server picks one when absent. */
  profile?: string
  /** `key=value` pairs; they override the values file. */
  set?: string[]
  /** YAML mapping of parameter values. */
  valuesFile?: string
}

/** `appId@version` → parts. App ids never contain `@` (`^[a-z0-9-]+$`). */
export function parseAppRef(ref: string): AppRef {
  const at = ref.indexOf('@')
  const appId = at === -1 ? ref : ref.slice(0, at)
  const version = at === -1 ? undefined : ref.slice(at + 1)
  if (!appId) throw new UsageError(`missing app id in ${JSON.stringify(ref)} — use APP_ID or APP_ID@VERSION (see: margo app list)`)
  if (version === '') throw new UsageError(`missing version after @ in ${JSON.stringify(ref)} — use ${appId}@VERSION or just ${appId} for the latest`)
  return version === undefined ? {appId} : {appId, version}
}

/**
 * `key=value` pairs → values. Values stay strings: the server coerces them by the app's
 * parameter schema, so `--set port=08` is not silently turned into 8 here.
 */
export function parseSetValues(pairs: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new UsageError(`--set ${JSON.stringify(pair)} is not key=value — e.g. --set greeting=Hello`)
    values[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return values
}

/** Parses a values file's text; YAML types are kept, the server checks them against the schema. */
export function parseValuesDocument(text: string, path: string): Record<string, unknown> {
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (err) {
    throw new UsageError(`cannot parse values file ${path}: ${(err as Error).message} — fix the YAML`, {cause: err})
  }
  if (doc == null) return {}
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UsageError(`values file ${path} must be a YAML mapping of parameter names to values, e.g. "greeting: Hello"`)
  }
  return doc as Record<string, unknown>
}

export function readValuesFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read values file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} — check the path`, {cause: err})
  }
  return parseValuesDocument(text, path)
}

/** The request body for POST /deployments; `values` is left out when none were given. */
export function buildDeploymentRequest(options: DeployOptions, fileValues?: Record<string, unknown>): CreateDeploymentRequest {
  const {appId, version} = parseAppRef(options.app)
  const setValues = parseSetValues(options.set ?? [])
  const hasValues = fileValues !== undefined || Object.keys(setValues).length > 0
  return {
    appId,
    ...(version ? {version} : {}),
    clientId: options.clientId,
    ...(options.profile ? {profile: options.profile} : {}),
    ...(hasValues ? {values: {...fileValues, ...setValues}} : {}),
  }
}

export function deploy(client: OperatorClient, options: DeployOptions): Promise<Deployment> {
  const fileValues = options.valuesFile ? readValuesFile(options.valuesFile) : undefined
  return client.createDeployment(buildDeploymentRequest(options, fileValues))
}
