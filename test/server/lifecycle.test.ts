import {afterEach, describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import {startCertificateWatch} from '../../src/server/fleet-status/cert-expiry.ts'
import {startRolloutController} from '../../src/server/rollouts/controller.ts'
import type {ServerEvent} from '../../src/server/events.ts'
import {silentLogger} from '../../src/util/log.ts'
import {createHarness, capabilitiesBody, HELLO_WORLD, TestDevice, type Harness} from './harness.ts'

const APP = 'com-northstartida-hello-world'
const OTHER = 'com-northstartida-hello-other'
let h: Harness
afterEach(() => h?.close())

async function json<T>(res: Response | Promise<Response>, status: number): Promise<T> {
  const r = await res
  const text = await r.text()
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${text}`)
  return JSON.parse(text) as T
}

async function device(report = true) {
  const d = await TestDevice.create(h)
  await d.onboard()
  if (report) expect((await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('dev')})).status).toBe(201)
  return d
}

const poll = (d: TestDevice) => d.send('GET', '/api/v1/clients/{clientId}/deployments')
const onboardAgain = (d: TestDevice) => d.send('POST', '/api/v1/onboarding', {body: d.onboardingBody()})
const publish = async (yaml = readFileSync(HELLO_WORLD, 'utf8')) => expect((await h.operator('POST', '/apps', yaml, {'content-type': 'application/yaml'})).status).toBe(201)
const actions = async () => (await json<{entries: {action: string, target: string}[]}>(h.operator('GET', '/audit'), 200)).entries

interface DeviceView {clientId: string, enrollment: string, labels: Record<string, string>, tombstone?: {reason: string, replacedBy: string | null, reonboardAllowed: boolean}}

describe('revocation', () => {
  test("the device's next signed request after revoke gets 403, with no restart; approving again lets it back at once", async () => {
    h = await createHarness()
    const d = await device()
    expect((await poll(d)).status).toBe(200)
    expect((await poll(d)).status).toBe(200) // the credential is now cached
    await json(h.operator('POST', `/devices/${d.clientId}/revoke`), 200)
    const refused = await poll(d)
    expect(refused.status).toBe(403)
    expect(await refused.text()).toContain('certificate-not-trusted')
    await json(h.operator('POST', `/devices/${d.clientId}/approve`), 200)
    expect((await poll(d)).status).toBe(200)
  })
})

describe('reject', () => {
  test('a pending device is rejected for good: its certificate cannot onboard again, and it leaves the device list', async () => {
    h = await createHarness({enrollment: 'approve'})
    const d = await device(false)
    const rejected = await json<DeviceView>(h.operator('POST', `/devices/${d.clientId}/reject`), 200)
    expect(rejected.enrollment).toBe('revoked')
    expect(rejected.tombstone).toMatchObject({reason: 'rejected', reonboardAllowed: false})
    const again = await onboardAgain(d)
    expect(again.status).toBe(403)
    expect(await again.text()).toContain('rejected')
    expect((await poll(d)).status).toBe(403)
    expect((await json<{devices: DeviceView[]}>(h.operator('GET', '/devices'), 200)).devices).toEqual([])
    expect((await json<{devices: DeviceView[]}>(h.operator('GET', '/devices?all=true'), 200)).devices.map(x => x.clientId)).toEqual([d.clientId])
    expect(await actions()).toContainEqual(expect.objectContaining({action: 'device.rejected', target: `device:${d.clientId}`}))

    const active = await device(false)
    await json(h.operator('POST', `/devices/${active.clientId}/approve`), 200)
    const refused = await json<{error: {code: string}}>(h.operator('POST', `/devices/${active.clientId}/reject`), 409)
    expect(refused.error.code).toBe('not_pending')
  })
})

describe('delete', () => {
  test('decommissions: revoked at once, deployments leave the fleet view, kept as a tombstone until allowed to onboard again', async () => {
    h = await createHarness()
    await publish()
    const d = await device()
    const keep = await device()
    await json(h.operator('PUT', `/devices/${d.clientId}/labels`, {labels: {site: 'a'}}), 200)
    await json(h.operator('POST', '/rollouts', {appId: APP, name: 'hello', devices: [d.clientId, keep.clientId]}), 201)
    expect((await poll(d)).status).toBe(200)

    const deleted = await json<DeviceView>(h.operator('DELETE', `/devices/${d.clientId}`), 200)
    expect(deleted.tombstone).toMatchObject({reason: 'deleted', reonboardAllowed: false})
    expect(deleted.labels).toEqual({})
    expect((await poll(d)).status).toBe(403)
    expect((await onboardAgain(d)).status).toBe(403)

    const deployments = (await json<{deployments: {clientId: string}[]}>(h.operator('GET', '/deployments'), 200)).deployments
    expect(deployments.map(x => x.clientId)).toEqual([keep.clientId])
    const status = await json<{devices: {total: number}, deployments: {total: number}}>(h.operator('GET', '/status'), 200)
    expect(status.devices.total).toBe(1)
    expect(status.deployments.total).toBe(1)
    const shown = await json<{deployments: {desired: string, removedUnconfirmedAt?: string}[]}>(h.operator('GET', `/devices/${d.clientId}`), 200)
    expect(shown.deployments).toEqual([expect.objectContaining({desired: 'absent', removedUnconfirmedAt: expect.any(String)})])

    // Allowed back: the same certificate onboards again under its clientId, enrolled like a new device.
    const allowed = await json<DeviceView>(h.operator('DELETE', `/devices/${d.clientId}?allowReonboard=true`), 200)
    expect(allowed.tombstone?.reonboardAllowed).toBe(true)
    const back = await onboardAgain(d)
    expect(back.status).toBe(201)
    expect((await back.json() as {clientId: string}).clientId).toBe(d.clientId)
    expect((await poll(d)).status).toBe(200)
    const revived = await json<DeviceView>(h.operator('GET', `/devices/${d.clientId}`), 200)
    expect(revived.enrollment).toBe('active')
    expect(revived.tombstone).toBeUndefined()
    const log = await actions()
    expect(log.map(e => e.action)).toEqual(expect.arrayContaining(['device.deleted', 'device.reonboarded']))
  })
})

describe('replace', () => {
  test('the new device takes over labels and rollout membership; the old one is revoked', async () => {
    h = await createHarness({enrollment: 'approve'})
    const stop = startRolloutController({store: h.store, events: h.events, log: silentLogger, now: () => new Date()}, h.services.rollouts)
    await publish()
    await publish(readFileSync(HELLO_WORLD, 'utf8').replace(`id: ${APP}\n`, `id: ${OTHER}\n`))
    const old = await device(false)
    await json(h.operator('POST', `/devices/${old.clientId}/approve`), 200)
    expect((await old.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('dev')})).status).toBe(201)
    await json(h.operator('PUT', `/devices/${old.clientId}/labels`, {labels: {site: 'plant-7', line: '2'}}), 200)
    await json(h.operator('POST', '/rollouts', {appId: APP, name: 'listed', devices: [old.clientId]}), 201)
    await json(h.operator('POST', '/rollouts', {appId: OTHER, name: 'by-site', selector: 'site=plant-7'}), 201)
    const fresh = await device(false)
    expect((await poll(fresh)).status).toBe(403) // pending

    const r = await json<{old: DeviceView, new: DeviceView, rollouts: {name: string, revision: number}[], approved: boolean}>(
      h.operator('POST', `/devices/${old.clientId}/replace`, {newClientId: fresh.clientId}), 200)
    expect(r.approved).toBe(true)
    expect(r.rollouts).toEqual([{name: 'listed', revision: 2}])
    expect(r.new.labels).toEqual({line: '2', site: 'plant-7'})
    expect(r.new.enrollment).toBe('active')
    expect(r.old.tombstone).toMatchObject({reason: 'replaced', replacedBy: fresh.clientId})

    const listed = await json<{devices: string[]}>(h.operator('GET', '/rollouts/listed'), 200)
    expect(listed.devices).toEqual([fresh.clientId])
    const history = await json<{history: {cause: string | null}[]}>(h.operator('GET', '/rollouts/listed/revisions'), 200)
    expect(history.history.at(-1)!.cause).toBe(`device ${old.clientId} replaced by ${fresh.clientId}`)
    expect((await poll(fresh)).status).toBe(200)
    // Approved, the new device reports what it is; the rollouts it took over then fit it.
    expect((await fresh.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('dev')})).status).toBe(201)
    const apps = (await json<{deployments: {appId: string, desired: string}[]}>(h.operator('GET', `/deployments?clientId=${fresh.clientId}`), 200)).deployments
    expect(apps.filter(a => a.desired === 'present').map(a => a.appId).sort()).toEqual([APP, OTHER].sort())
    expect((await json<{deployments: unknown[]}>(h.operator('GET', `/deployments?clientId=${old.clientId}`), 200)).deployments
      .every(x => (x as {desired: string}).desired === 'absent')).toBe(true)
    expect((await poll(old)).status).toBe(403)
    expect((await onboardAgain(old)).status).toBe(403)
    expect(await actions()).toContainEqual(expect.objectContaining({action: 'device.replaced', target: `device:${old.clientId}`}))
    stop()
  })
})

describe('certificate expiry', () => {
  test('status lists devices within the window; the watcher announces each once as it enters it', async () => {
    h = await createHarness()
    const d = await device()
    const notAfter = (await json<{certificate: {notAfter: string}}>(h.operator('GET', `/devices/${d.clientId}`), 200)).certificate.notAfter
    const listed = await json<{certificate: {notAfter: string}}[]>(h.operator('GET', '/devices').then(async r => new Response(JSON.stringify((await r.json() as {devices: unknown[]}).devices))), 200)
    expect(listed[0]!.certificate.notAfter).toBe(notAfter)
    const at = (daysBefore: number) => new Date(Date.parse(notAfter) - daysBefore * 86_400_000)
    const events: ServerEvent[] = []
    h.events.subscribe(e => { if (e.type === 'device.certificate_expiring') events.push(e) })
    const watch = startCertificateWatch({store: h.store, events: h.events, log: silentLogger, now: h.device.now, intervalMs: 0})

    h.setClock(at(45))
    expect((await json<{expiringCertificates: unknown[]}>(h.operator('GET', '/status'), 200)).expiringCertificates).toEqual([])
    expect(watch.check()).toEqual([])
    const wider = await json<{expiringCertificates: {clientId: string}[], certExpiryWarningSeconds: number}>(h.operator('GET', '/status?certExpiryWithin=60d'), 200)
    expect(wider.expiringCertificates.map(e => e.clientId)).toEqual([d.clientId])
    expect(wider.certExpiryWarningSeconds).toBe(60 * 86400)

    h.setClock(at(10.5))
    const status = await json<{expiringCertificates: {clientId: string, daysLeft: number, expired: boolean}[]}>(h.operator('GET', '/status'), 200)
    expect(status.expiringCertificates).toEqual([expect.objectContaining({clientId: d.clientId, daysLeft: 10, expired: false})])
    expect(watch.check().map(e => e.clientId)).toEqual([d.clientId])
    expect(watch.check()).toEqual([])
    expect(events).toEqual([{type: 'device.certificate_expiring', clientId: d.clientId, notAfter}])
    watch.stop()
  })
})
