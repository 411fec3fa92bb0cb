import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {
  buildCapabilities, capabilitiesDigest, detectHost, formatBinaryQuantity, interfaceTypeOf, architectureOf, type HostFacts,
} from '../../../src/agent/capabilities/index.ts'
import {parseCapabilities} from '../../../src/margo/capabilities.ts'
import {tempDir} from './helpers.ts'

let dir: ReturnType<typeof tempDir>
beforeEach(() => {
  dir = tempDir()
})
afterEach(() => dir.cleanup())

function put(path: string, content = ''): void {
  mkdirSync(dirname(path), {recursive: true})
  writeFileSync(path, content)
}

const GiB = 2 ** 30

const facts: HostFacts = {
  hostname: 'press-7',
  cpuCores: 4,
  architecture: 'arm64',
  memoryBytes: 8 * GiB,
  storageBytes: 64 * GiB + 123_456,
  interfaces: ['ethernet', 'wifi'],
  gpus: [{manufacturer: 'NVIDIA'}],
  vendor: 'Northstar Industrial Devices',
  model: '332ANZE1-N1',
  serial: 'PF45343-AA',
}

describe('CL-14: the capabilities report has the G1 shape with enum-valid values', () => {
  test('from detected facts: the canonical payload of the spec', () => {
    const manifest = buildCapabilities(facts)
    expect(manifest).toEqual({
      apiVersion: 'device.margo.org/v1alpha1',
      kind: 'DeviceCapabilitiesManifest',
      properties: {
        id: 'press-7',
        vendor: 'Northstar Industrial Devices',
        modelNumber: '332ANZE1-N1',
        serialNumber: 'PF45343-AA',
        roles: ['Standalone Device'],
        resources: {
          cpu: {cores: 4, architecture: 'arm64'},
          memory: '8Gi',
          storage: '64Gi',
          peripherals: [{type: 'gpu', manufacturer: 'NVIDIA'}],
          interfaces: [{type: 'ethernet'}, {type: 'wifi'}],
        },
      },
    })
    const parsed = parseCapabilities(manifest)
    expect(parsed.ok).toBe(true)
    if (parsed.ok) expect(parsed.value.shape).toBe('g1')
  })

  test('unknown identity fields become "unknown", an unmeasurable volume 0Mi, and it still validates', () => {
    const bare: HostFacts = {hostname: 'h', cpuCores: 1, architecture: 'other', memoryBytes: 1_000_000_000, storageBytes: null, interfaces: [], gpus: []}
    const manifest = buildCapabilities(bare, {}, {id: 'device-42'})
    expect(manifest.properties.id).toBe('device-42')
    expect(manifest.properties.vendor).toBe('unknown')
    expect(manifest.properties.resources.memory).toBe('953Mi')
    expect(manifest.properties.resources.storage).toBe('0Mi')
    expect(parseCapabilities(manifest).ok).toBe(true)
  })

  test('memory and storage are integers with binary units and no space, rounded down', () => {
    expect(formatBinaryQuantity(8 * GiB)).toBe('8Gi')
    expect(formatBinaryQuantity(8 * GiB + 1)).toBe('8Gi')
    expect(formatBinaryQuantity(16_647_544_832)).toBe('15876Mi')
    expect(formatBinaryQuantity(512 * 2 ** 20)).toBe('512Mi')
    expect(formatBinaryQuantity(0)).toBe('0Mi')
    for (const q of ['15876Mi', '8Gi']) expect(q).toMatch(/^[0-9]+(Mi|Gi|Ki)$/)
  })

  test('architectures map to the Margo vocabulary', () => {
    expect(architectureOf('x64')).toBe('amd64')
    expect(architectureOf('arm64')).toBe('arm64')
    expect(architectureOf('arm')).toBe('arm')
    expect(architectureOf('riscv64')).toBe('riscv64')
    expect(architectureOf('s390x')).toBe('other')
  })
})

describe('CL-15: only resources delegated to Margo are reported (overrides win field by field)', () => {
  test('overrides replace detected values and the result validates', () => {
    const manifest = buildCapabilities(facts, {
      id: 'line-3-press',
      serialNumber: 'SN-1',
      roles: ['Standalone Cluster'],
      resources: {cpu: {cores: 2}, memory: '2 Gi', storage: '20Gi', interfaces: ['ethernet'], peripherals: []},
    })
    const p = manifest.properties
    expect(p.id).toBe('line-3-press')
    expect(p.vendor).toBe('Northstar Industrial Devices')
    expect(p.serialNumber).toBe('SN-1')
    expect(p.roles).toEqual(['Standalone Cluster'])
    expect(p.resources.cpu).toEqual({cores: 2, architecture: 'arm64'})
    expect(p.resources.memory).toBe('2Gi')
    expect(p.resources.storage).toBe('20Gi')
    expect(p.resources.interfaces).toEqual([{type: 'ethernet'}])
    expect(p.resources.peripherals).toEqual([])
    const parsed = parseCapabilities(manifest)
    expect(parsed.ok).toBe(true)
    if (parsed.ok) expect(parsed.value.memoryBytes).toBe(2 * GiB)
  })
})

describe('CL-13: the digest decides when a PUT is due', () => {
  test('stable across key order, different when content changes', () => {
    const a = buildCapabilities(facts)
    const reordered = JSON.parse(JSON.stringify({properties: a.properties, kind: a.kind, apiVersion: a.apiVersion}))
    expect(capabilitiesDigest(reordered)).toBe(capabilitiesDigest(a))
    expect(capabilitiesDigest(a)).toMatch(/^sha256:[0-9a-f]{64}$/)
    const more = buildCapabilities({...facts, memoryBytes: 16 * GiB})
    expect(capabilitiesDigest(more)).not.toBe(capabilitiesDigest(a))
  })

  test('free-space noise on the volume does not change the report', () => {
    const a = buildCapabilities({...facts, storageBytes: 64 * GiB + 10})
    const b = buildCapabilities({...facts, storageBytes: 64 * GiB + 900_000_000})
    expect(capabilitiesDigest(a)).toBe(capabilitiesDigest(b))
  })
})

describe('host detection tolerates whatever /sys offers', () => {
  test('a fake sysfs: physical interfaces only, GPUs by PCI vendor, DMI identity', async () => {
    const sys = join(dir.path, 'sys')
    const dev = join(dir.path, 'dev')
    for (const name of ['lo', 'docker0', 'veth12ab', 'br-0f3c', 'eth0', 'enp3s0', 'wlp2s0', 'wwan0', 'can0']) put(join(sys, 'class/net', name, 'type'), '1')
    put(join(sys, 'class/net/wlp2s0/wireless/.keep'))
    put(join(sys, 'class/drm/card0/device/vendor'), '0x8086\n')
    put(join(sys, 'class/drm/card1/device/vendor'), '0x10DE\n')
    put(join(sys, 'class/drm/card0-HDMI-A-1/status'), 'connected')
    put(join(sys, 'class/drm/card2/device/vendor'), '0x1234\n')
    put(join(sys, 'class/dmi/id/sys_vendor'), 'Northstar Industrial Devices\n')
    put(join(sys, 'class/dmi/id/product_name'), 'To Be Filled By O.E.M.\n')
    put(join(sys, 'class/dmi/id/board_name'), 'XTA-PRO\n')
    put(join(dev, 'nvidia0'))
    const workloadDir = join(dir.path, 'state', 'workloads', 'not-yet')
    const host = await detectHost({workloadDir, sysRoot: sys, devRoot: dev, os: {hostname: 'edge', cpuCores: 4, arch: 'arm64', memoryBytes: 4 * GiB}})
    expect(host.interfaces).toEqual(['ethernet', 'wifi', 'cellular', 'canbus'])
    expect(host.gpus).toEqual([{manufacturer: 'Intel'}, {manufacturer: 'NVIDIA'}])
    expect(host.vendor).toBe('Northstar Industrial Devices')
    // Placeholder product names fall through to the board name.
    expect(host.model).toBe('XTA-PRO')
    expect(host.serial).toBeUndefined()
    expect(host.storageBytes).toBeGreaterThan(0)
    expect(host.architecture).toBe('arm64')
    expect(parseCapabilities(buildCapabilities(host)).ok).toBe(true)
  })

  test('an empty or missing sysfs gives an empty but valid report', async () => {
    const host = await detectHost({workloadDir: join(dir.path, 'w'), sysRoot: join(dir.path, 'no-sys'), devRoot: join(dir.path, 'no-dev')})
    expect(host.interfaces).toEqual([])
    expect(host.gpus).toEqual([])
    expect(host.vendor).toBeUndefined()
    expect(host.cpuCores).toBeGreaterThan(0)
    expect(host.memoryBytes).toBeGreaterThan(0)
    const manifest = buildCapabilities(host)
    expect(manifest.properties.vendor).toBe('unknown')
    expect(parseCapabilities(manifest).ok).toBe(true)
  })

  test('device-tree boards (no DMI) are identified by their model and serial', async () => {
    const sys = join(dir.path, 'sys')
    put(join(sys, 'firmware/devicetree/base/model'), 'Raspberry Pi 4 Model B Rev 1.4\0')
    put(join(sys, 'firmware/devicetree/base/serial-number'), '10000000abcdef01\0')
    const host = await detectHost({workloadDir: dir.path, sysRoot: sys, devRoot: join(dir.path, 'dev')})
    expect(host.model).toBe('Raspberry Pi 4 Model B Rev 1.4')
    expect(host.serial).toBe('10000000abcdef01')
  })

  test('interface classification', () => {
    expect(interfaceTypeOf('lo', false)).toBeNull()
    expect(interfaceTypeOf('cali1234', false)).toBeNull()
    expect(interfaceTypeOf('wlan0', false)).toBe('wifi')
    expect(interfaceTypeOf('eno1', true)).toBe('wifi')
    expect(interfaceTypeOf('can1', false)).toBe('canbus')
    expect(interfaceTypeOf('wwan0', false)).toBe('cellular')
    expect(interfaceTypeOf('eno1', false)).toBe('ethernet')
  })
})
