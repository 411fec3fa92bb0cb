/** The capabilities setting: what the agent reports about the device where detection falls short. */
import {matchEnum} from '../../margo/check.ts'
import {MEMORY_UNITS, STORAGE_UNITS, readQuantity, type BinaryUnit} from '../../margo/quantity.ts'
import {
  ARCHITECTURES, ARCHITECTURE_ALIASES, DEVICE_ROLES, DEVICE_ROLE_ALIASES, INTERFACE_TYPES, PERIPHERAL_TYPES,
} from '../../margo/vocabulary.ts'
import type {CapabilityOverrides, PeripheralOverride} from '../capabilities/build.ts'
import {at, invalid, isRecord, mapping, text, type Origin} from './values.ts'

const CAPABILITY_KEYS = ['id', 'vendor', 'modelNumber', 'serialNumber', 'roles', 'resources'] as const
const RESOURCE_KEYS = ['cpu', 'memory', 'storage', 'peripherals', 'interfaces'] as const
const CPU_KEYS = ['cores', 'architecture'] as const
const PERIPHERAL_KEYS = ['type', 'manufacturer', 'model'] as const

function quantity(o: Origin, value: unknown, units: readonly BinaryUnit[]): string {
  const accepted = `an integer with a binary unit (${units.join(', ')}), e.g. '8Gi'`
  const q = typeof value === 'string' ? readQuantity(value, units) : null
  if (q === null) throw invalid(o, value, accepted)
  return q.canonical
}

export function capabilities(o: Origin, value: unknown): CapabilityOverrides {
  const c = mapping(o, value, CAPABILITY_KEYS)
  const out: CapabilityOverrides = {}
  for (const k of ['id', 'vendor', 'modelNumber', 'serialNumber'] as const) {
    if (c[k] !== undefined) out[k] = text(at(o, k), typeof c[k] === 'number' ? String(c[k]) : c[k])
  }
  if (c.roles !== undefined) {
    const ro = at(o, 'roles')
    if (!Array.isArray(c.roles) || c.roles.length === 0) throw invalid(ro, c.roles, `a list of roles: ${DEVICE_ROLES.join(', ')}`)
    out.roles = c.roles.map((r, i) => {
      const role = matchEnum(r, DEVICE_ROLES, DEVICE_ROLE_ALIASES)
      if (!role) throw invalid(at(ro, i), r, `one of ${DEVICE_ROLES.join(', ')}`)
      return role
    })
  }
  if (c.resources !== undefined) {
    const ro = at(o, 'resources')
    const r = mapping(ro, c.resources, RESOURCE_KEYS)
    const res: NonNullable<CapabilityOverrides['resources']> = {}
    if (r.cpu !== undefined) {
      const co = at(ro, 'cpu')
      const cpu = mapping(co, r.cpu, CPU_KEYS)
      res.cpu = {}
      if (cpu.cores !== undefined) {
        if (typeof cpu.cores !== 'number' || !Number.isFinite(cpu.cores) || cpu.cores <= 0) throw invalid(at(co, 'cores'), cpu.cores, 'a positive number')
        res.cpu.cores = cpu.cores
      }
      if (cpu.architecture !== undefined) {
        const arch = matchEnum(cpu.architecture, ARCHITECTURES, ARCHITECTURE_ALIASES)
        if (!arch) throw invalid(at(co, 'architecture'), cpu.architecture, `one of ${ARCHITECTURES.join(', ')}`)
        res.cpu.architecture = arch
      }
    }
    if (r.memory !== undefined) res.memory = quantity(at(ro, 'memory'), r.memory, MEMORY_UNITS)
    if (r.storage !== undefined) res.storage = quantity(at(ro, 'storage'), r.storage, STORAGE_UNITS)
    if (r.peripherals !== undefined) {
      const po = at(ro, 'peripherals')
      if (!Array.isArray(r.peripherals)) throw invalid(po, r.peripherals, 'a list of {type, manufacturer?, model?}')
      res.peripherals = r.peripherals.map((p, i) => {
        const entry: Record<string, unknown> = typeof p === 'string' ? {type: p} : mapping(at(po, i), p, PERIPHERAL_KEYS)
        const type = matchEnum(entry.type, PERIPHERAL_TYPES)
        if (!type) throw invalid(at(at(po, i), 'type'), entry.type, `one of ${PERIPHERAL_TYPES.join(', ')}`)
        const out: PeripheralOverride = {type}
        if (entry.manufacturer !== undefined) out.manufacturer = text(at(at(po, i), 'manufacturer'), entry.manufacturer)
        if (entry.model !== undefined) out.model = text(at(at(po, i), 'model'), entry.model)
        return out
      })
    }
    if (r.interfaces !== undefined) {
      const io = at(ro, 'interfaces')
      if (!Array.isArray(r.interfaces)) throw invalid(io, r.interfaces, `a list of interface types: ${INTERFACE_TYPES.join(', ')}`)
      res.interfaces = r.interfaces.map((entry, i) => {
        const raw = isRecord(entry) ? mapping(at(io, i), entry, ['type']).type : entry
        const type = matchEnum(raw, INTERFACE_TYPES)
        if (!type) throw invalid(at(io, i), raw, `one of ${INTERFACE_TYPES.join(', ')}`)
        return type
      })
    }
    out.resources = res
  }
  return out
}
