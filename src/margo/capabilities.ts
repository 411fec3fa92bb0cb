import {Issues, isRecord, matchEnum, quote, readArray, readKind, readObject, readText, describe, type Json} from './check.ts'
import {MEMORY_UNITS, STORAGE_UNITS, parseQuantity, type BinaryUnit} from './quantity.ts'
import {checkDocumentBounds} from './limits.ts'
import {joinPath, type Result} from './result.ts'
import {
  ARCHITECTURES, ARCHITECTURE_ALIASES, DEVICE_ROLES, DEVICE_ROLE_ALIASES, INTERFACE_TYPES, PERIPHERAL_TYPES, PROFILE_TYPES,
  ROLE_PROFILE, SUPPORTED_DEPLOYMENT_TYPES, SUPPORTED_RUNTIMES,
  type Architecture, type DeviceRole, type InterfaceType, type PeripheralType, type ProfileType, type SupportedRuntime,
} from './vocabulary.ts'

export {parseQuantity} from './quantity.ts'

export const CAPABILITIES_KIND = 'DeviceCapabilitiesManifest'

export interface Peripheral {
  type: PeripheralType
  manufacturer?: string
  model?: string
}

export interface CommunicationInterface {
  type: InterfaceType
}

/**
 * What the WFM needs from a capabilities report, the same whichever shape the device sent.
 * An absent resource means the device did not say (the G1.5 shape makes them optional), which
 * resource checks must treat as "unknown", not as zero.
 */
export interface DeviceCapabilities {
  shape: 'g1' | 'g1.5'
  apiVersion: string
  deviceId: string
  vendor: string
  modelNumber: string
  serialNumber: string
  /** G1 roles as reported; for the G1.5 shape derived from the deployment types. */
  roles: DeviceRole[]
  /** Profile types this device can run, derived from roles (G1) or `supportedDeploymentTypes` (G1.5). */
  deploymentTypes: ProfileType[]
  supportedRuntimes: SupportedRuntime[]
  otelCollector?: boolean
  cpu?: {cores: number, architectures: Architecture[]}
  memoryBytes?: number
  storageBytes?: number
  peripherals: Peripheral[]
  interfaces: CommunicationInterface[]
  /** The parsed document as received; the server keeps the original bytes separately. */
  raw: unknown
}

/** Members that only the G1.5 shape puts directly under `properties`. */
const G15_MEMBERS = ['cpus', 'memory', 'storage', 'peripherals', 'interfaces', 'supportedRuntimes', 'supportedDeploymentTypes', 'otelCollector']

/**
 * Validates a DeviceCapabilitiesManifest. The G1 shape (`roles` + `resources`) is the
 * baseline; the later G1.5 shape (`cpus`, `supportedDeploymentTypes`, … under `properties`)
 * is accepted too because deployed devices send it. Enum values are matched
 * case-insensitively and `x86_64` reads as `amd64`, since the spec's own examples vary in
 * spelling; values outside the enums are errors. Unknown members, including
 * `x-*-extensions`, are ignored, within the bounds of src/margo/limits.ts: the document is
 * stored and shown fleet-wide, so it is checked against them before anything else.
 */
export function parseCapabilities(json: unknown): Result<DeviceCapabilities> {
  if (!isRecord(json)) return {ok: false, errors: [{field: '', message: `must be a JSON object, got ${describe(json)}`}]}
  const bounds = checkDocumentBounds(json)
  if (bounds.length > 0) return {ok: false, errors: bounds}
  const issues = new Issues()
  const apiVersion = readText(issues, json, 'apiVersion', '')
  readKind(issues, json, CAPABILITIES_KIND)
  const props = readObject(issues, json, 'properties', '')
  if (!props) return {ok: false, errors: issues.errors}

  const p = 'properties'
  const identity = {
    deviceId: readText(issues, props, 'id', p),
    vendor: readText(issues, props, 'vendor', p),
    modelNumber: readText(issues, props, 'modelNumber', p),
    serialNumber: readText(issues, props, 'serialNumber', p),
  }
  const isG1 = 'roles' in props || 'resources' in props || !G15_MEMBERS.some(k => k in props)
  const body = isG1 ? readG1(issues, props, p) : readG15(issues, props, p)
  // Declared deployment types and runtimes are checked in either shape: a device that mixes
  // shapes must not slip an invalid value past validation.
  const declaredTypes = readDeploymentTypes(issues, props, p)
  const supportedRuntimes = readRuntimes(issues, props, p)
  const otelCollector = readOptionalBoolean(issues, props, 'otelCollector', p)

  return issues.result(() => {
    const roles = isG1 ? body.roles : rolesFor(declaredTypes)
    const deploymentTypes = PROFILE_TYPES.filter(t => declaredTypes.includes(t) || roles.some(r => ROLE_PROFILE[r] === t))
    return {
      shape: isG1 ? 'g1' : 'g1.5',
      apiVersion: apiVersion!,
      deviceId: identity.deviceId!,
      vendor: identity.vendor!,
      modelNumber: identity.modelNumber!,
      serialNumber: identity.serialNumber!,
      roles,
      deploymentTypes,
      supportedRuntimes,
      ...(otelCollector !== null && {otelCollector}),
      ...(body.cpu.cores !== null && {cpu: {cores: body.cpu.cores, architectures: body.cpu.architectures}}),
      ...(body.memoryBytes !== null && {memoryBytes: body.memoryBytes}),
      ...(body.storageBytes !== null && {storageBytes: body.storageBytes}),
      peripherals: body.peripherals,
      interfaces: body.interfaces,
      raw: json,
    }
  })
}

interface Body {
  roles: DeviceRole[]
  cpu: {cores: number | null, architectures: Architecture[]}
  memoryBytes: number | null
  storageBytes: number | null
  peripherals: Peripheral[]
  interfaces: CommunicationInterface[]
}

function readG1(issues: Issues, props: Json, path: string): Body {
  const roles: DeviceRole[] = []
  const list = readArray(issues, props, 'roles', path)
  list?.forEach((value, i) => {
    const role = matchEnum(value, DEVICE_ROLES, DEVICE_ROLE_ALIASES)
    if (role) {
      if (!roles.includes(role)) roles.push(role)
    } else {
      issues.add(joinPath(joinPath(path, 'roles'), i), `must be one of ${DEVICE_ROLES.join(', ')}; got ${quote(value)}`)
    }
  })
  const r = joinPath(path, 'resources')
  const resources = readObject(issues, props, 'resources', path)
  if (!resources) return {roles, cpu: {cores: null, architectures: []}, memoryBytes: null, storageBytes: null, peripherals: [], interfaces: []}
  return {
    roles,
    cpu: readCpu(issues, resources, 'cpu', r, true),
    memoryBytes: readQuantity(issues, resources, 'memory', r, MEMORY_UNITS, true),
    storageBytes: readQuantity(issues, resources, 'storage', r, STORAGE_UNITS, true),
    peripherals: readPeripherals(issues, resources, r, true),
    interfaces: readInterfaces(issues, resources, r, true),
  }
}

function readG15(issues: Issues, props: Json, path: string): Body {
  return {
    roles: [],
    cpu: readCpu(issues, props, 'cpus', path, false),
    memoryBytes: readQuantity(issues, props, 'memory', path, MEMORY_UNITS, false),
    storageBytes: readQuantity(issues, props, 'storage', path, STORAGE_UNITS, false),
    peripherals: readPeripherals(issues, props, path, false),
    interfaces: readInterfaces(issues, props, path, false),
  }
}

function rolesFor(types: readonly ProfileType[]): DeviceRole[] {
  const roles: DeviceRole[] = []
  if (types.includes('helm.v3')) roles.push('Standalone Cluster')
  if (types.includes('compose')) roles.push('Standalone Device')
  return roles
}

/** `cpu` is an object in the G1 OpenAPI but an array in the doc example; `cpus` (G1.5) is an array. Counts are summed. */
function readCpu(issues: Issues, parent: Json, key: string, path: string, required: boolean): Body['cpu'] {
  const at = joinPath(path, key)
  const value = parent[key]
  const cpu: Body['cpu'] = {cores: null, architectures: []}
  if (value === undefined) {
    if (required) issues.add(at, 'is required')
    return cpu
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [v, joinPath(at, i)] as const) : [[value, at] as const]
  if (!Array.isArray(value) && !isRecord(value)) {
    issues.add(at, `must be an object or an array, got ${describe(value)}`)
    return cpu
  }
  for (const [entry, where] of entries) {
    if (!isRecord(entry)) {
      issues.add(where, `must be an object, got ${describe(entry)}`)
      continue
    }
    const cores = entry.cores
    if (cores === undefined) issues.add(joinPath(where, 'cores'), 'is required')
    else if (typeof cores !== 'number' || !Number.isFinite(cores) || cores <= 0) issues.add(joinPath(where, 'cores'), `must be a positive number, got ${quote(cores)}`)
    else cpu.cores = (cpu.cores ?? 0) + cores
    for (const name of ['architecture', 'architectures']) {
      const arch = entry[name]
      if (arch === undefined) continue
      const list = Array.isArray(arch) ? arch.map((a, i) => [a, joinPath(joinPath(where, name), i)] as const) : [[arch, joinPath(where, name)] as const]
      for (const [a, archPath] of list) {
        const known = matchEnum(a, ARCHITECTURES, ARCHITECTURE_ALIASES)
        if (!known) issues.add(archPath, `must be one of ${ARCHITECTURES.join(', ')} (or x86_64); got ${quote(a)}`)
        else if (!cpu.architectures.includes(known)) cpu.architectures.push(known)
      }
    }
  }
  return cpu
}

function readQuantity(issues: Issues, parent: Json, key: string, path: string, units: readonly BinaryUnit[], required: boolean): number | null {
  const at = joinPath(path, key)
  const value = parent[key]
  if (value === undefined) {
    if (required) issues.add(at, 'is required')
    return null
  }
  const bytes = typeof value === 'string' ? parseQuantity(value, units) : null
  if (bytes === null) issues.add(at, `must be an integer followed by a binary unit (${units.join(', ')}), e.g. '8Gi'; got ${quote(value)}`)
  return bytes
}

function readTypedList<T extends string>(issues: Issues, parent: Json, key: string, path: string, required: boolean, members: readonly T[]): {type: T, entry: Json}[] {
  const at = joinPath(path, key)
  const out: {type: T, entry: Json}[] = []
  readArray(issues, parent, key, path, required)?.forEach((entry, i) => {
    const where = joinPath(at, i)
    if (!isRecord(entry)) {
      issues.add(where, `must be an object, got ${describe(entry)}`)
      return
    }
    const type = matchEnum(entry.type, members)
    if (type) out.push({type, entry})
    else if (entry.type === undefined) issues.add(joinPath(where, 'type'), 'is required')
    else issues.add(joinPath(where, 'type'), `must be one of ${members.join(', ')}; got ${quote(entry.type)}`)
  })
  return out
}

function readPeripherals(issues: Issues, parent: Json, path: string, required: boolean): Peripheral[] {
  return readTypedList(issues, parent, 'peripherals', path, required, PERIPHERAL_TYPES).map(({type, entry}) => {
    const p: Peripheral = {type}
    if (typeof entry.manufacturer === 'string') p.manufacturer = entry.manufacturer
    if (typeof entry.model === 'string') p.model = entry.model
    return p
  })
}

function readInterfaces(issues: Issues, parent: Json, path: string, required: boolean): CommunicationInterface[] {
  return readTypedList(issues, parent, 'interfaces', path, required, INTERFACE_TYPES).map(({type}) => ({type}))
}

function readDeploymentTypes(issues: Issues, props: Json, path: string): ProfileType[] {
  const out: ProfileType[] = []
  readArray(issues, props, 'supportedDeploymentTypes', path, false)?.forEach((value, i) => {
    const t = matchEnum(value, SUPPORTED_DEPLOYMENT_TYPES)
    if (!t) issues.add(joinPath(joinPath(path, 'supportedDeploymentTypes'), i), `must be one of ${SUPPORTED_DEPLOYMENT_TYPES.join(', ')}; got ${quote(value)}`)
    else if (t === 'helm' || t === 'helm.v3') out.push('helm.v3')
    else if (t === 'compose') out.push('compose')
  })
  return out
}

function readRuntimes(issues: Issues, props: Json, path: string): SupportedRuntime[] {
  const out: SupportedRuntime[] = []
  readArray(issues, props, 'supportedRuntimes', path, false)?.forEach((value, i) => {
    const r = matchEnum(value, SUPPORTED_RUNTIMES)
    if (!r) issues.add(joinPath(joinPath(path, 'supportedRuntimes'), i), `must be one of ${SUPPORTED_RUNTIMES.join(', ')}; got ${quote(value)}`)
    else if (!out.includes(r)) out.push(r)
  })
  return out
}

function readOptionalBoolean(issues: Issues, parent: Json, key: string, path: string): boolean | null {
  const value = parent[key]
  if (value === undefined) return null
  if (typeof value !== 'boolean') {
    issues.add(joinPath(path, key), `must be a boolean, got ${quote(value)}`)
    return null
  }
  return value
}
