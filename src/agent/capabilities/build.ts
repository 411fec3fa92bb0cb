import {createHash} from 'node:crypto'
import canonicalize from 'canonicalize'
import {BINARY_UNITS, readQuantity} from '../../margo/quantity.ts'
import {CAPABILITIES_KIND} from '../../margo/capabilities.ts'
import type {Architecture, DeviceRole, InterfaceType, PeripheralType} from '../../margo/vocabulary.ts'

export const CAPABILITIES_API_VERSION = 'device.margo.org/v1alpha1'

/**
 * A device that runs Compose workloads. Helm on a Kubernetes node is a deliberate choice of the
 * device owner (it decides which cluster Margo may use), so `Standalone Cluster` is only ever
 * reported when configured.
 */
export const DEFAULT_ROLES: readonly DeviceRole[] = ['Standalone Device']

/** What could be learned about the host. Every field tolerates an unreadable source. */
export interface HostFacts {
  hostname: string
  cpuCores: number
  architecture: Architecture
  memoryBytes: number
  /** Size of the filesystem holding the workload directory; null when it could not be measured. */
  storageBytes: number | null
  /** Distinct interface types, in vocabulary order. */
  interfaces: InterfaceType[]
  /** One entry per GPU manufacturer seen. */
  gpus: Array<{manufacturer: string}>
  /** Firmware identity (DMI or device tree); absent when unreadable or a placeholder. */
  vendor?: string
  model?: string
  serial?: string
}

export interface PeripheralOverride {
  type: PeripheralType
  manufacturer?: string
  model?: string
}

/**
 * Device-owner settings that replace detected values field by field. Resources are what the
 * owner delegates to Margo workloads (CL-15), which may be less than the host has.
 */
export interface CapabilityOverrides {
  id?: string
  vendor?: string
  modelNumber?: string
  serialNumber?: string
  roles?: DeviceRole[]
  resources?: {
    cpu?: {cores?: number, architecture?: Architecture}
    /** A binary quantity such as `6Gi`. */
    memory?: string
    storage?: string
    peripherals?: PeripheralOverride[]
    interfaces?: InterfaceType[]
  }
}

/** The G1 (OpenAPI 1.0.0) DeviceCapabilitiesManifest, exactly as sent. */
export interface CapabilitiesManifest {
  apiVersion: typeof CAPABILITIES_API_VERSION
  kind: typeof CAPABILITIES_KIND
  properties: {
    id: string
    vendor: string
    modelNumber: string
    serialNumber: string
    roles: DeviceRole[]
    resources: {
      cpu: {cores: number, architecture: Architecture}
      memory: string
      storage: string
      peripherals: PeripheralOverride[]
      interfaces: Array<{type: InterfaceType}>
    }
  }
}

const UNKNOWN = 'unknown'

/**
 * Bytes as an integer binary quantity without a space (`15876Mi`, `64Gi`), the form the
 * data-model pattern requires. Rounds down: reporting more than exists would let the WFM
 * place a workload that cannot fit. `smallest` is the finest unit used.
 */
export function formatBinaryQuantity(bytes: number, smallest: 'Ki' | 'Mi' | 'Gi' = 'Mi', largest: 'Gi' | 'Ti' = 'Gi'): string {
  const order = ['Ki', 'Mi', 'Gi', 'Ti'] as const
  const from = order.indexOf(smallest)
  const to = order.indexOf(largest)
  const base = BINARY_UNITS[smallest]
  const count = Math.max(0, Math.floor(bytes / base))
  // Climb to the largest unit that still states the rounded value exactly.
  let unit = from
  while (unit < to && count % (BINARY_UNITS[order[unit + 1]!] / base) === 0 && count > 0) unit++
  return `${count / (BINARY_UNITS[order[unit]!] / base)}${order[unit]}`
}

/** Storage is reported in whole GiB once it reaches one, so free-space noise does not look like a change. */
function storageQuantity(bytes: number): string {
  return bytes >= BINARY_UNITS.Gi ? `${Math.floor(bytes / BINARY_UNITS.Gi)}Gi` : formatBinaryQuantity(bytes, 'Mi', 'Gi')
}

/** `8 Gi` (the spec's own example spelling) becomes `8Gi`; anything else is left for the validator. */
function tidyQuantity(value: string): string {
  return readQuantity(value)?.canonical ?? value
}

/**
 * The capabilities report for these facts and settings. Pure, so the same inputs always give
 * the same document and the same digest.
 */
export function buildCapabilities(facts: HostFacts, overrides: CapabilityOverrides = {}, defaults: {id?: string} = {}): CapabilitiesManifest {
  const r = overrides.resources ?? {}
  const peripherals = r.peripherals
    ? r.peripherals.map(p => ({...p}))
    : facts.gpus.map(g => ({type: 'gpu' as const, manufacturer: g.manufacturer}))
  const interfaces = (r.interfaces ?? facts.interfaces).map(type => ({type}))
  return {
    apiVersion: CAPABILITIES_API_VERSION,
    kind: CAPABILITIES_KIND,
    properties: {
      id: overrides.id ?? defaults.id ?? facts.hostname,
      vendor: overrides.vendor ?? facts.vendor ?? UNKNOWN,
      modelNumber: overrides.modelNumber ?? facts.model ?? UNKNOWN,
      serialNumber: overrides.serialNumber ?? facts.serial ?? UNKNOWN,
      roles: [...(overrides.roles ?? DEFAULT_ROLES)],
      resources: {
        cpu: {
          cores: r.cpu?.cores ?? facts.cpuCores,
          architecture: r.cpu?.architecture ?? facts.architecture,
        },
        memory: r.memory !== undefined ? tidyQuantity(r.memory) : formatBinaryQuantity(facts.memoryBytes),
        storage: r.storage !== undefined ? tidyQuantity(r.storage) : storageQuantity(facts.storageBytes ?? 0),
        peripherals,
        interfaces,
      },
    },
  }
}

/**
 * `sha256:<hex>` of the RFC 8785 canonical JSON: equal for equal content whatever the key
 * order, so a changed digest means the WFM must be told (PUT).
 */
export function capabilitiesDigest(manifest: object): string {
  const text = canonicalize(manifest)
  if (text === undefined) throw new TypeError('the capabilities manifest cannot be serialized as JSON')
  return `sha256:${createHash('sha256').update(text).digest('hex')}`
}
