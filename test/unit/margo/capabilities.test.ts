import {describe, expect, test} from 'bun:test'
import {parseCapabilities, parseQuantity} from '../../../src/margo/capabilities.ts'
import type {FieldError} from '../../../src/margo/result.ts'
import {clone, G15_CAPABILITIES, G1_CAPABILITIES, SUPPLIER_CAPABILITIES} from './fixtures.ts'

function errorsOf(json: unknown): FieldError[] {
  const r = parseCapabilities(json)
  if (r.ok) throw new Error('expected the capabilities to be rejected')
  return r.errors
}

function acceptedValue(json: unknown) {
  const r = parseCapabilities(json)
  if (!r.ok) throw new Error(`expected acceptance, got ${JSON.stringify(r.errors)}`)
  return r.value
}

const fields = (errors: FieldError[]) => errors.map(e => e.field)

describe('WFM-17: DeviceCapabilitiesManifest (G1 shape)', () => {
  test('the spec §4.1 payload is accepted and normalized', () => {
    const v = acceptedValue(G1_CAPABILITIES)
    expect(v.shape).toBe('g1')
    expect(v.deviceId).toBe('northstarida.xtapro.k8s.edge')
    expect(v.vendor).toBe('Northstar Industrial Devices')
    expect(v.modelNumber).toBe('332ANZE1-N1')
    expect(v.serialNumber).toBe('PF45343-AA')
    expect(v.roles).toEqual(['Standalone Device'])
    expect(v.deploymentTypes).toEqual(['compose'])
    expect(v.cpu).toEqual({cores: 4, architectures: ['arm64']})
    expect(v.memoryBytes).toBe(8 * 2 ** 30)
    expect(v.storageBytes).toBe(64 * 2 ** 30)
    expect(v.peripherals).toEqual([{type: 'gpu', manufacturer: 'NVIDIA'}])
    expect(v.interfaces).toEqual([{type: 'ethernet'}, {type: 'wifi'}])
    expect(v.raw).toBe(G1_CAPABILITIES)
  })

  test('the device-supplier 1.0.0 bodies (steps 2.1 and 2.2) are accepted', () => {
    expect(acceptedValue(SUPPLIER_CAPABILITIES).roles).toEqual(['Standalone Device'])
    const update = clone(SUPPLIER_CAPABILITIES)
    update.properties.roles = ['Standalone Device', 'Cluster Leader']
    update.properties.resources.cpu = {cores: 8, architecture: 'amd64'}
    const v = acceptedValue(update)
    expect(v.roles).toEqual(['Standalone Device', 'Cluster Leader'])
    expect(v.deploymentTypes).toEqual(['helm.v3', 'compose'])
  })

  test('Kubernetes roles map to helm.v3, Standalone Device to compose', () => {
    const doc = clone(G1_CAPABILITIES)
    doc.properties.roles = ['Standalone Cluster']
    expect(acceptedValue(doc).deploymentTypes).toEqual(['helm.v3'])
    doc.properties.roles = ['Cluster Leader']
    expect(acceptedValue(doc).deploymentTypes).toEqual(['helm.v3'])
  })

  test('assertions.json rejections: role "Unknown Role", interface "serial", architecture "sparc" give errors at their paths', () => {
    const role = clone(SUPPLIER_CAPABILITIES)
    role.properties.roles = ['Unknown Role']
    expect(fields(errorsOf(role))).toEqual(['properties.roles[0]'])

    const iface = clone(SUPPLIER_CAPABILITIES)
    iface.properties.resources.interfaces = [{type: 'serial'}]
    expect(fields(errorsOf(iface))).toEqual(['properties.resources.interfaces[0].type'])

    const arch = clone(SUPPLIER_CAPABILITIES)
    arch.properties.resources.cpu = {cores: 4, architecture: 'sparc'}
    expect(fields(errorsOf(arch))).toEqual(['properties.resources.cpu.architecture'])

    const peripheral = clone(SUPPLIER_CAPABILITIES)
    peripheral.properties.resources.peripherals = [{type: 'joystick'}]
    expect(fields(errorsOf(peripheral))).toEqual(['properties.resources.peripherals[0].type'])
  })

  test('device-supplier 5.1 and 7.1: missing properties or apiVersion are rejected', () => {
    expect(fields(errorsOf({apiVersion: 'device.margo.org/v1alpha1', kind: 'DeviceCapabilitiesManifest'}))).toEqual(['properties'])
    const {apiVersion: _, ...noApiVersion} = clone(SUPPLIER_CAPABILITIES)
    expect(fields(errorsOf(noApiVersion))).toEqual(['apiVersion'])
  })

  test('§3.2 invalid example: a wrong kind is rejected', () => {
    expect(fields(errorsOf({...clone(G1_CAPABILITIES), kind: 'DeviceCapabilities'}))).toEqual(['kind'])
    const {kind: _, ...noKind} = clone(G1_CAPABILITIES)
    expect(fields(errorsOf(noKind))).toEqual(['kind'])
  })

  test('every problem is reported at once, each with its path', () => {
    const doc = {
      apiVersion: '',
      kind: 'DeviceCapabilitiesManifest',
      properties: {
        id: '',
        vendor: 7,
        serialNumber: 'x',
        roles: ['Standalone Device', 'Fridge'],
        resources: {cpu: {cores: 0, architecture: 'sparc'}, memory: '8GB', storage: 'lots', peripherals: 'none', interfaces: [{}]},
      },
    }
    expect(fields(errorsOf(doc)).sort()).toEqual([
      'apiVersion',
      'properties.id',
      'properties.modelNumber',
      'properties.resources.cpu.architecture',
      'properties.resources.cpu.cores',
      'properties.resources.interfaces[0].type',
      'properties.resources.memory',
      'properties.resources.peripherals',
      'properties.resources.storage',
      'properties.roles[1]',
      'properties.vendor',
    ])
  })

  test('G1 requires resources and each of its members', () => {
    const doc = clone(G1_CAPABILITIES) as {properties: Record<string, unknown>}
    doc.properties.resources = {}
    expect(fields(errorsOf(doc)).sort()).toEqual([
      'properties.resources.cpu', 'properties.resources.interfaces', 'properties.resources.memory',
      'properties.resources.peripherals', 'properties.resources.storage',
    ])
    delete doc.properties.resources
    expect(fields(errorsOf(doc))).toEqual(['properties.resources'])
  })

  test('a non-object body is rejected', () => {
    expect(errorsOf(null)[0]!.field).toBe('')
    expect(errorsOf([G1_CAPABILITIES])[0]!.field).toBe('')
  })
})

describe('A12: lenient reading of the G1 capability variants', () => {
  test('enums are case-insensitive and come back in canonical spelling; "cluster lead" is Cluster Leader', () => {
    const doc = clone(G1_CAPABILITIES) as any
    doc.properties.roles = ['standalone cluster', 'cluster lead', 'STANDALONE DEVICE']
    doc.properties.resources.peripherals = [{type: 'GPU'}]
    doc.properties.resources.interfaces = [{type: 'Ethernet'}]
    const v = acceptedValue(doc)
    expect(v.roles).toEqual(['Standalone Cluster', 'Cluster Leader', 'Standalone Device'])
    expect(v.peripherals).toEqual([{type: 'gpu'}])
    expect(v.interfaces).toEqual([{type: 'ethernet'}])
  })

  test('C14: x86_64 reads as amd64; riscv64 and other are valid', () => {
    const doc = clone(G1_CAPABILITIES) as any
    doc.properties.resources.cpu = {cores: 2, architecture: 'x86_64'}
    expect(acceptedValue(doc).cpu!.architectures).toEqual(['amd64'])
    doc.properties.resources.cpu = {cores: 2, architectures: ['riscv64', 'other']}
    expect(acceptedValue(doc).cpu!.architectures).toEqual(['riscv64', 'other'])
  })

  test('cpu as an array (doc example) sums cores and merges architectures', () => {
    const doc = clone(G1_CAPABILITIES) as any
    doc.properties.resources.cpu = [{cores: 4, architecture: 'arm64'}, {cores: 2, architecture: ['arm64', 'arm']}]
    expect(acceptedValue(doc).cpu).toEqual({cores: 6, architectures: ['arm64', 'arm']})
    doc.properties.resources.cpu = [{cores: 4}, {architecture: 'arm64'}]
    expect(fields(errorsOf(doc))).toEqual(['properties.resources.cpu[1].cores'])
  })

  test('architecture may be omitted (it is optional)', () => {
    const doc = clone(G1_CAPABILITIES) as any
    doc.properties.resources.cpu = {cores: 2}
    expect(acceptedValue(doc).cpu).toEqual({cores: 2, architectures: []})
  })

  test('memory written "59 Gi" (with a space) is accepted; decimal or unknown units are not', () => {
    const doc = clone(G1_CAPABILITIES) as any
    doc.properties.resources.memory = '59 Gi'
    expect(acceptedValue(doc).memoryBytes).toBe(59 * 2 ** 30)
    for (const bad of ['8GB', '8G', '8 gi', '1.5Gi', '8Ti', '', 8]) {
      doc.properties.resources.memory = bad
      expect(fields(errorsOf(doc))).toEqual(['properties.resources.memory'])
    }
  })

  test('storage accepts binary units up to Ei', () => {
    const doc = clone(G1_CAPABILITIES) as any
    doc.properties.resources.storage = '2Ti'
    expect(acceptedValue(doc).storageBytes).toBe(2 * 2 ** 40)
    doc.properties.resources.storage = '1Ei'
    expect(acceptedValue(doc).storageBytes).toBe(2 ** 60)
  })

  test('cores must be a positive number; fractional counts are allowed (delegated CPU share)', () => {
    const doc = clone(G1_CAPABILITIES) as any
    doc.properties.resources.cpu = {cores: 2.5}
    expect(acceptedValue(doc).cpu!.cores).toBe(2.5)
    for (const bad of [0, -1, '4', null]) {
      doc.properties.resources.cpu = {cores: bad}
      expect(fields(errorsOf(doc))).toEqual(['properties.resources.cpu.cores'])
    }
  })
})

describe('C13: the G1.5 capabilities shape', () => {
  test('the WFM core suite body is accepted, with roles derived from the deployment types', () => {
    const v = acceptedValue(G15_CAPABILITIES)
    expect(v.shape).toBe('g1.5')
    expect(v.roles).toEqual(['Standalone Cluster', 'Standalone Device'])
    expect(v.deploymentTypes).toEqual(['helm.v3', 'compose'])
    expect(v.cpu).toEqual({cores: 4, architectures: ['arm64']})
    expect(v.memoryBytes).toBe(16 * 2 ** 30)
    expect(v.storageBytes).toBe(256 * 2 ** 30)
    expect(v.supportedRuntimes).toEqual(['oci'])
    expect(v.otelCollector).toBe(false)
    expect(v.interfaces).toEqual([{type: 'ethernet'}])
  })

  test('compose only derives Standalone Device; helm.v3 is a synonym of helm; custom derives nothing', () => {
    const doc = clone(G15_CAPABILITIES) as any
    doc.properties.supportedDeploymentTypes = ['compose']
    expect(acceptedValue(doc).roles).toEqual(['Standalone Device'])
    doc.properties.supportedDeploymentTypes = ['helm.v3', 'custom']
    expect(acceptedValue(doc).deploymentTypes).toEqual(['helm.v3'])
    doc.properties.supportedDeploymentTypes = ['custom']
    expect(acceptedValue(doc).roles).toEqual([])
  })

  test('invalid supportedDeploymentTypes are rejected (the core suite 422 triggers)', () => {
    for (const bad of ['__invalid_deployment_type__', 'docker-swarm']) {
      const doc = clone(G15_CAPABILITIES) as any
      doc.properties.supportedDeploymentTypes = [bad]
      expect(fields(errorsOf(doc))).toEqual(['properties.supportedDeploymentTypes[0]'])
    }
  })

  test('invalid supportedRuntimes are rejected ("containerd-direct")', () => {
    const doc = clone(G15_CAPABILITIES) as any
    doc.properties.supportedRuntimes = ['containerd-direct']
    expect(fields(errorsOf(doc))).toEqual(['properties.supportedRuntimes[0]'])
  })

  test('only the identity fields are required; resources then stay unknown rather than zero', () => {
    const v = acceptedValue({
      apiVersion: 'device.margo.org/v1alpha1',
      kind: 'DeviceCapabilitiesManifest',
      properties: {id: 'gw/a', vendor: 'v', modelNumber: 'm', serialNumber: 's', supportedDeploymentTypes: ['compose']},
    })
    expect(v.cpu).toBeUndefined()
    expect(v.memoryBytes).toBeUndefined()
    expect(v.storageBytes).toBeUndefined()
    expect(v.peripherals).toEqual([])
  })

  test('G1.5 values are validated too: bad cpus architecture, memory, otelCollector', () => {
    const doc = clone(G15_CAPABILITIES) as any
    doc.properties.cpus = [{cores: 4, architecture: 'sparc'}]
    doc.properties.memory = '16 GB'
    doc.properties.otelCollector = 'yes'
    expect(fields(errorsOf(doc)).sort()).toEqual(['properties.cpus[0].architecture', 'properties.memory', 'properties.otelCollector'])
  })

  test('a G1 body carrying a G1.5 member still has it validated', () => {
    const doc = clone(G1_CAPABILITIES) as any
    doc.properties.supportedDeploymentTypes = ['__invalid_deployment_type__']
    expect(fields(errorsOf(doc))).toEqual(['properties.supportedDeploymentTypes[0]'])
  })
})

describe('WFM-43: unknown extensions in DeviceCapabilities do not fail', () => {
  test('root and nested x-*-extensions, unknown members and unknown apiVersions are tolerated', () => {
    const doc = clone(G1_CAPABILITIES) as any
    doc['x-acme-extensions'] = {anything: [1, 2]}
    doc.apiVersion = 'device.margo.org/v9'
    doc.properties.labels = {site: 'plant-1'}
    doc.properties['x-acme-extensions'] = 'not even an object'
    doc.properties.resources.cpu.vendor = 'ARM'
    expect(parseCapabilities(doc).ok).toBe(true)
    const g15 = clone(G15_CAPABILITIES) as any
    g15['x-vendor-extensions'] = {k: 'v'}
    expect(parseCapabilities(g15).ok).toBe(true)
  })
})

describe('parseQuantity', () => {
  test('binary units to bytes, optional single blank, null when malformed or not allowed', () => {
    expect(parseQuantity('8Gi')).toBe(8589934592)
    expect(parseQuantity('512Mi')).toBe(512 * 1024 * 1024)
    expect(parseQuantity('1Ki')).toBe(1024)
    expect(parseQuantity('59 Gi')).toBe(59 * 2 ** 30)
    expect(parseQuantity('8GB')).toBeNull()
    expect(parseQuantity('8')).toBeNull()
    expect(parseQuantity('-8Gi')).toBeNull()
    expect(parseQuantity('8  Gi')).toBeNull()
    expect(parseQuantity('2Ti', ['Ki', 'Mi', 'Gi'])).toBeNull()
  })
})
