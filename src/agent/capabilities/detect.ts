import {existsSync} from 'node:fs'
import {readdir, readFile, statfs} from 'node:fs/promises'
import {availableParallelism, hostname as osHostname, totalmem} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {INTERFACE_TYPES, type Architecture, type InterfaceType} from '../../margo/vocabulary.ts'
import type {HostFacts} from './build.ts'

export interface DetectOptions {
  /** The directory workloads are stored in; its filesystem is the storage reported. */
  workloadDir: string
  /** Root of sysfs; replaced in tests by a fake tree. */
  sysRoot?: string
  /** Root of the device nodes. */
  devRoot?: string
  /** Overrides of the OS facts, for tests. */
  os?: Partial<{hostname: string, cpuCores: number, arch: string, memoryBytes: number}>
}

/** Node's `process.arch` names mapped to the Margo vocabulary. */
export function architectureOf(arch: string): Architecture {
  switch (arch) {
    case 'x64': return 'amd64'
    case 'arm64': return 'arm64'
    case 'arm': return 'arm'
    case 'riscv64': return 'riscv64'
    default: return 'other'
  }
}

/** Container, bridge and tunnel devices exist on most edge hosts but are not ways the device talks to the world. */
const VIRTUAL_INTERFACE = /^(lo|docker|veth|br-|virbr|cni|flannel|cali|cilium|vxlan|tun|tap|wg|kube|dummy|vcan|vnet|podman|lxc|ifb|sit|ip6tnl|gre|nlmon)/

/** Classifies one `/sys/class/net` entry; null for virtual ones. */
export function interfaceTypeOf(name: string, hasWirelessDir: boolean): InterfaceType | null {
  if (VIRTUAL_INTERFACE.test(name)) return null
  if (hasWirelessDir || name.startsWith('wlan') || name.startsWith('wlp')) return 'wifi'
  if (name.startsWith('wwan') || name.startsWith('ppp')) return 'cellular'
  if (name.startsWith('can') || name.startsWith('slcan')) return 'canbus'
  return 'ethernet'
}

const GPU_VENDORS: Readonly<Record<string, string>> = {
  '0x10de': 'NVIDIA',
  '0x1002': 'AMD',
  '0x8086': 'Intel',
}

/** Values firmware ships when the board maker never filled the field in. */
const PLACEHOLDER = /^(|none|null|n\/a|na|default string|not specified|not applicable|to be filled by o\.e\.m\.|system product name|system manufacturer|system serial number|o\.e\.m\.|oem|0+|0123456789|123456789|xxxxx+|\.+|unknown)$/i

async function readText(path: string): Promise<string | undefined> {
  try {
    // Device-tree strings end in NUL.
    return (await readFile(path, 'latin1')).replace(/\0+$/g, '').trim()
  } catch {
    return undefined
  }
}

async function readIdentityField(...paths: string[]): Promise<string | undefined> {
  for (const path of paths) {
    const value = await readText(path)
    if (value !== undefined && !PLACEHOLDER.test(value)) return value
  }
  return undefined
}

async function listDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort()
  } catch {
    return []
  }
}

async function detectInterfaces(sysRoot: string): Promise<InterfaceType[]> {
  const found = new Set<InterfaceType>()
  for (const name of await listDir(join(sysRoot, 'class/net'))) {
    const type = interfaceTypeOf(name, existsSync(join(sysRoot, 'class/net', name, 'wireless')))
    if (type) found.add(type)
  }
  if ((await listDir(join(sysRoot, 'class/bluetooth'))).some(n => /^hci\d+$/.test(n))) found.add('bluetooth')
  return INTERFACE_TYPES.filter(t => found.has(t))
}

async function detectGpus(sysRoot: string, devRoot: string): Promise<Array<{manufacturer: string}>> {
  const makers = new Set<string>()
  // The proprietary NVIDIA driver (and Jetson's nvhost) exposes device nodes even without DRM.
  if (existsSync(join(devRoot, 'nvidia0')) || existsSync(join(devRoot, 'nvhost-gpu'))) makers.add('NVIDIA')
  for (const card of await listDir(join(sysRoot, 'class/drm'))) {
    // `card0-HDMI-A-1` and friends are connectors of a card, not cards.
    if (!/^card\d+$/.test(card)) continue
    const vendor = (await readText(join(sysRoot, 'class/drm', card, 'device/vendor')))?.toLowerCase()
    const maker = vendor ? GPU_VENDORS[vendor] : undefined
    if (maker) makers.add(maker)
  }
  return [...makers].sort().map(manufacturer => ({manufacturer}))
}

/** The workload directory may not exist before the first deployment; its nearest existing ancestor is on the same volume. */
async function detectStorage(workloadDir: string): Promise<number | null> {
  let dir = resolve(workloadDir)
  for (;;) {
    try {
      const s = await statfs(dir)
      return Number(s.blocks) * Number(s.bsize)
    } catch {
      const parent = dirname(dir)
      if (parent === dir) return null
      dir = parent
    }
  }
}

/** Reads what the host offers. Never throws: a missing or unreadable source leaves its fact unknown. */
export async function detectHost(options: DetectOptions): Promise<HostFacts> {
  const sysRoot = options.sysRoot ?? '/sys'
  const devRoot = options.devRoot ?? '/dev'
  const os = options.os ?? {}
  const dmi = join(sysRoot, 'class/dmi/id')
  const dt = join(sysRoot, 'firmware/devicetree/base')
  const [interfaces, gpus, storageBytes, vendor, model, serial] = await Promise.all([
    detectInterfaces(sysRoot),
    detectGpus(sysRoot, devRoot),
    detectStorage(options.workloadDir),
    readIdentityField(join(dmi, 'sys_vendor'), join(dmi, 'board_vendor')),
    // Boards without DMI (most ARM devices) describe themselves in the device tree.
    readIdentityField(join(dmi, 'product_name'), join(dmi, 'board_name'), join(dt, 'model')),
    readIdentityField(join(dmi, 'product_serial'), join(dmi, 'board_serial'), join(dt, 'serial-number')),
  ])
  const facts: HostFacts = {
    hostname: os.hostname ?? osHostname(),
    cpuCores: os.cpuCores ?? availableParallelism(),
    architecture: architectureOf(os.arch ?? process.arch),
    memoryBytes: os.memoryBytes ?? totalmem(),
    storageBytes,
    interfaces,
    gpus,
  }
  if (vendor !== undefined) facts.vendor = vendor
  if (model !== undefined) facts.model = model
  if (serial !== undefined) facts.serial = serial
  return facts
}
