import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {createHarness, capabilitiesBody, TestDevice, type Harness} from './harness.ts'

let h: Harness
let d: TestDevice
beforeEach(async () => {
  h = await createHarness()
  d = await TestDevice.create(h)
  await d.onboard()
})
afterEach(() => h.close())

const CAPABILITIES = '/api/v1/clients/{clientId}/capabilities'
/** ~100 KB of nested arrays: small on the wire, deeper than any call stack. */
const deepArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)

interface Problem {type: string, status: number, errors: {field: string, message: string}[]}

describe('documents from devices are bounded', () => {
  test('a capabilities report nested deeper than the limit is refused with 422 naming the path', async () => {
    const body = JSON.stringify(capabilitiesBody()).replace(/}$/, `,"x-acme-extensions":{"deep":${deepArrays(50_000)}}}`)
    const res = await d.send('PUT', CAPABILITIES, {body})
    expect(res.status).toBe(422)
    const problem = (await res.json()) as Problem
    expect(problem.type).toBe('https://docs.margo.org/specification/problems/semantic-error')
    expect(problem.errors[0]!.field).toStartWith('x-acme-extensions.deep[0]')
    expect(problem.errors[0]!.message).toContain('nested deeper than')
    expect(h.store.getClient(d.clientId)!.capabilitiesJson).toBeNull()
    // The fleet-wide views still answer.
    expect((await h.operator('GET', '/devices')).status).toBe(200)
  })

  test('an oversized extension member and too many keys are refused with 422', async () => {
    const big = {...capabilitiesBody(), 'x-acme-extensions': {blob: 'a'.repeat(200 * 1024)}}
    const res = await d.send('PUT', CAPABILITIES, {body: big})
    expect(res.status).toBe(422)
    expect(((await res.json()) as Problem).errors.map(e => e.field)).toEqual(['x-acme-extensions'])

    const many = {...capabilitiesBody(), 'x-acme-extensions': Object.fromEntries(Array.from({length: 20_000}, (_, i) => [`k${i}`, 1]))}
    const res2 = await d.send('PUT', CAPABILITIES, {body: many})
    expect(res2.status).toBe(422)
    expect(((await res2.json()) as Problem).errors[0]!.message).toContain('more than')
  })

  test('a generous but ordinary extension is still accepted', async () => {
    const body = {...capabilitiesBody(), 'x-acme-extensions': {rack: {row: {slot: [1, 2, {u: 4}]}}, notes: 'n'.repeat(8 * 1024)}}
    expect((await d.send('PUT', CAPABILITIES, {body})).status).toBe(201)
  })
})

describe('operator views survive any record already stored', () => {
  const plant = (capabilitiesJson: string) =>
    h.store.db.query('UPDATE clients SET capabilities_json = ? WHERE client_id = ?').run(capabilitiesJson, d.clientId)

  for (const [name, stored] of [
    ['nested 50,000 deep', `{"kind":"DeviceCapabilitiesManifest","x-acme-extensions":${deepArrays(50_000)}}`],
    ['not JSON at all', '{"kind": "DeviceCapabilitiesManifest", '],
  ] as const) {
    test(`a stored capabilities record ${name} is shown as unreadable, never a 500`, async () => {
      const other = await TestDevice.create(h)
      await other.onboard()
      expect((await other.send('PUT', CAPABILITIES, {body: capabilitiesBody('device-2')})).status).toBe(201)
      plant(stored)

      const list = await h.operator('GET', '/devices')
      expect(list.status).toBe(200)
      const devices = ((await list.json()) as {devices: {clientId: string, capabilities: unknown, unreadable?: string[]}[]}).devices
      const bad = devices.find(x => x.clientId === d.clientId)!
      expect(bad.capabilities).toBeNull()
      expect(bad.unreadable).toEqual(['capabilities'])
      const good = devices.find(x => x.clientId === other.clientId)!
      expect((good.capabilities as {properties: {id: string}}).properties.id).toBe('device-2')
      expect(good.unreadable).toBeUndefined()

      expect((await h.operator('GET', `/devices/${d.clientId}`)).status).toBe(200)
      const revoke = await h.operator('POST', `/devices/${d.clientId}/revoke`)
      expect(revoke.status).toBe(200)
      expect(((await revoke.json()) as {enrollment: string}).enrollment).toBe('revoked')
      expect((await h.operator('GET', '/status')).status).toBe(200)
      expect((await h.operator('GET', `/status/${d.clientId}`)).status).toBe(200)
    })
  }

  test('unreadable labels do not break the list either', async () => {
    h.store.db.query('UPDATE clients SET labels_json = ? WHERE client_id = ?').run('{not json', d.clientId)
    const list = await h.operator('GET', '/devices')
    expect(list.status).toBe(200)
    const dev = ((await list.json()) as {devices: {labels: unknown, unreadable?: string[]}[]}).devices[0]!
    expect(dev.labels).toEqual({})
    expect(dev.unreadable).toEqual(['labels'])
  })
})
