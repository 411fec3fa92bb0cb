/**
 * Builds the ApplicationDeployment YAML a device receives (spec §3.1, §3.4 steps 3–5).
 *
 * The YAML is written once and its bytes are what gets stored and hashed, so output is fully
 * deterministic: fixed key order, description order for components and parameters, no
 * anchors, no line folding. It is written as YAML 1.1 so readers that still use 1.1 rules
 * (Go yaml.v2, hence helm) see the same values: strings such as `yes`, `on`, `0755` or `1.0`
 * are quoted, and doubles keep a decimal point.
 */
import {Document, isScalar, isSeq, type Node} from 'yaml'
import {elementType} from '../../margo/package/rules.ts'
import type {
  ApplicationDescription, DeploymentProfile, Extensions, ParamValue, SchemaRule,
} from '../../margo/package/types.ts'
import {isDeploymentId} from './ids.ts'
import {defaultDeploymentName, defaultNamespace, isDnsLabel} from './names.ts'

export const APPLICATION_DEPLOYMENT_API_VERSION = 'application.margo.org/v1alpha1'

export interface DeploymentComponent {
  name: string
  properties: Record<string, unknown>
  [extension: string]: unknown
}

export interface DeploymentParameter {
  value: ParamValue
  targets: {pointer: string, components: string[]}[]
}

export interface ApplicationDeploymentDocument {
  apiVersion: typeof APPLICATION_DEPLOYMENT_API_VERSION
  kind: 'ApplicationDeployment'
  metadata: {
    annotations: {id: string, applicationId: string}
    name: string
    namespace: string
  }
  spec: {
    deploymentProfile: {
      type: DeploymentProfile['type']
      components: DeploymentComponent[]
      [extension: string]: unknown
    }
    parameters: Record<string, DeploymentParameter>
  }
}

export interface BuildInput {
  description: ApplicationDescription
  /** One of the description's profiles, as chosen for the device. */
  profile: DeploymentProfile
  deploymentId: string
  /** Resolved parameter values, as returned by resolveParameterValues. */
  values: Record<string, ParamValue>
  name?: string
  namespace?: string
}

export interface BuiltDeployment {
  yaml: string
  bytes: Uint8Array
  document: ApplicationDeploymentDocument
}

/** Older examples wrote compose pointers as `ENV.NAME`; devices expect the bare name (A25). */
const COMPOSE_POINTER_PREFIX = /^ENV\./

function copyExtensions(extensions: Extensions): Record<string, unknown> {
  return structuredClone(extensions)
}

function isParamValue(v: unknown): v is ParamValue {
  const scalar = (x: unknown) => typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x))
  return scalar(v) || (Array.isArray(v) && v.every(scalar))
}

/** The schema rule of the first setting bound to a parameter, if any. */
function ruleFor(description: ApplicationDescription, parameter: string): SchemaRule | undefined {
  const config = description.configuration
  if (!config) return undefined
  for (const section of config.sections) {
    for (const setting of section.settings) {
      if (setting.parameter === parameter) return config.schema.find(r => r.name === setting.schema)
    }
  }
  return undefined
}

function parametersFor(input: BuildInput): Record<string, DeploymentParameter> {
  const {description, profile, values} = input
  for (const key of Object.keys(values)) {
    if (!Object.hasOwn(description.parameters, key)) throw new RangeError(`value given for unknown parameter ${JSON.stringify(key)}`)
  }
  const names = new Set(profile.components.map(c => c.name))
  const out: Record<string, DeploymentParameter> = {}
  for (const [name, parameter] of Object.entries(description.parameters)) {
    if (!Object.hasOwn(values, name)) continue
    const value = values[name]
    if (!isParamValue(value)) throw new TypeError(`parameter ${JSON.stringify(name)} has a value that is not a scalar or list of scalars`)
    const targets = parameter.targets
      .map(t => ({
        pointer: profile.type === 'compose' ? t.pointer.replace(COMPOSE_POINTER_PREFIX, '') : t.pointer,
        components: t.components.filter(c => names.has(c)),
      }))
      .filter(t => t.components.length > 0)
    if (targets.length === 0) continue
    out[name] = {value: structuredClone(value), targets}
  }
  return out
}

/** Doubles keep a decimal point (and at least minPrecision digits) so they read back as floats. */
function markDoubles(doc: Document, description: ApplicationDescription, parameters: Record<string, DeploymentParameter>): void {
  for (const name of Object.keys(parameters)) {
    const rule = ruleFor(description, name)
    if (!rule || elementType(rule.dataType) !== 'double') continue
    const digits = Math.max(1, rule.minPrecision ?? 0)
    const node = doc.getIn(['spec', 'parameters', name, 'value'], true) as Node | undefined
    const scalars = isSeq(node) ? node.items : [node]
    for (const s of scalars) {
      if (isScalar(s) && typeof s.value === 'number') s.minFractionDigits = digits
    }
  }
}

export function buildApplicationDeployment(input: BuildInput): BuiltDeployment {
  const {description, profile, deploymentId} = input
  if (!isDeploymentId(deploymentId)) throw new RangeError(`deployment id must be a UUID, got ${JSON.stringify(deploymentId)}`)
  if (!description.deploymentProfiles.some(p => p.id === profile.id && p.type === profile.type)) {
    throw new RangeError(`profile ${JSON.stringify(profile.id)} is not a profile of ${description.metadata.id}`)
  }
  const applicationId = description.metadata.id
  const name = input.name ?? defaultDeploymentName(applicationId, deploymentId)
  const namespace = input.namespace ?? defaultNamespace(applicationId)
  if (!isDnsLabel(name)) throw new RangeError(`deployment name must be a DNS label of at most 63 characters, got ${JSON.stringify(name)}`)
  if (!isDnsLabel(namespace)) throw new RangeError(`namespace must be a DNS label of at most 63 characters, got ${JSON.stringify(namespace)}`)

  const parameters = parametersFor(input)
  const document: ApplicationDeploymentDocument = {
    apiVersion: APPLICATION_DEPLOYMENT_API_VERSION,
    kind: 'ApplicationDeployment',
    metadata: {
      annotations: {id: deploymentId, applicationId},
      name,
      namespace,
    },
    spec: {
      // Only type and components go to the device; id, description and requiredResources are
      // catalog information (§3.4 step 4). Device-targeted extensions travel with them (WFM-42).
      deploymentProfile: {
        type: profile.type,
        components: profile.components.map(c => ({
          name: c.name,
          properties: structuredClone(c.properties) as Record<string, unknown>,
          ...copyExtensions(c.extensions),
        })),
        ...copyExtensions(profile.extensions),
      },
      parameters,
    },
  }

  const doc = new Document(document, {version: '1.1', aliasDuplicateObjects: false})
  markDoubles(doc, description, parameters)
  const yaml = doc.toString({lineWidth: 0, minContentWidth: 0})
  return {yaml, bytes: new TextEncoder().encode(yaml), document}
}
