import {afterEach, describe, expect, test} from 'bun:test'
import {createHash} from 'node:crypto'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseCertificate} from '../../src/pki/index.ts'
import {downloadRoutes} from '../../src/server/downloads/routes.ts'
import {createHarness, ORIGIN, TestDevice, type Harness} from './harness.ts'

let h: Harness
afterEach(() => h.close())

async function issue(labels: Record<string, string>, extra: Record<string, unknown> = {}) {
  const res = await h.operator('POST', '/enrollment-tickets', {labels, ...extra})
  expect(res.status).toBe(201)
  return (await res.json()) as {ticket: string, labels: Record<string, string>, expiresAt: string, caFingerprint: string, deviceApiUrl: string}
}

const redeem = (d: TestDevice, ticket: string, opts: Parameters<TestDevice['send']>[2] = {}) =>
  d.send('POST', `${ORIGIN}/enroll/labels`, {body: {clientId: d.clientId, ticket}, ...opts})

const labelsOf = (clientId: string) => h.store.getClient(clientId)!.labels

describe('enrollment tickets', () => {
  test('the operator API issues a ticket with the CA fingerprint devices verify the server by; only with the token', async () => {
    h = await createHarness()
    const t = await issue({site: 'plant-7'})
    expect(t.labels).toEqual({site: 'plant-7'})
    expect(t.caFingerprint).toBe(parseCertificate(h.device.caCertificatePem).ok ? (parseCertificate(h.device.caCertificatePem) as {fingerprint: string}).fingerprint : '')
    expect(Date.parse(t.expiresAt) - Date.now()).toBeGreaterThan(23 * 3600 * 1000)
    const anonymous = await h.app.handle(new Request(`${ORIGIN}/operator/v1/enrollment-tickets`, {method: 'POST', body: '{}'}))
    expect(anonymous.status).toBe(401)
    expect((await h.operator('POST', '/enrollment-tickets', {labels: {'bad key!': 'x'}})).status).toBe(422)
    expect((await h.operator('POST', '/enrollment-tickets', {labels: {}, ttlSeconds: 5})).status).toBe(400)
  })

  test('issuing a ticket is an enrollment decision: operators may not, a scoped admin only within its scope, and the audit log never holds the ticket', async () => {
    h = await createHarness()
    const token = async (name: string, role: string, extra: Record<string, unknown> = {}) =>
      ((await (await h.operator('POST', '/tokens', {name, role, ...extra})).json()) as {token: string}).token
    const as = (t: string, labels: Record<string, string>) => h.app.handle(new Request(`${ORIGIN}/operator/v1/enrollment-tickets`, {
      method: 'POST', headers: {authorization: `Bearer ${t}`, 'content-type': 'application/json'}, body: JSON.stringify({labels}),
    }))
    expect((await as(await token('ops', 'operator'), {site: 'a'})).status).toBe(403)
    const scoped = await token('site-a', 'admin', {scope: 'site = a'})
    expect((await as(scoped, {site: 'a'})).status).toBe(201)
    const outside = await as(scoped, {site: 'b'})
    expect(outside.status).toBe(403)
    expect(((await outside.json()) as {error: {code: string}}).error.code).toBe('outside_scope')
    const {ticket} = await issue({site: 'c'})
    const audit = await (await h.operator('GET', '/audit')).text()
    expect(audit).toContain('enrollment.ticket_issued')
    expect(audit).not.toContain(ticket.split('.')[2]!)
  })

  test('a device redeeming a ticket with its own signature gets its labels, beside those an operator set', async () => {
    h = await createHarness()
    const d = await TestDevice.create(h)
    await d.onboard()
    h.store.setLabels(d.clientId, {owner: 'ops'})
    const t = await issue({site: 'plant-7', line: '2'})
    const res = await redeem(d, t.ticket)
    expect(res.status).toBe(200)
    expect(labelsOf(d.clientId)).toEqual({line: '2', owner: 'ops', site: 'plant-7'})
  })

  test('under approval enrollment the labels wait with the pending device', async () => {
    h = await createHarness({enrollment: 'approve'})
    const d = await TestDevice.create(h)
    await d.onboard()
    const res = await redeem(d, (await issue({site: 'plant-7'})).ticket)
    expect(res.status).toBe(200)
    expect(((await res.json()) as {enrollment: string}).enrollment).toBe('pending')
    expect(h.store.getClient(d.clientId)!.enrollment).toBe('pending')
    expect(labelsOf(d.clientId)).toEqual({site: 'plant-7'})
  })

  test('unsigned, signed by another key, forged, expired or for an unknown device: refused and nothing changes', async () => {
    h = await createHarness()
    const d = await TestDevice.create(h)
    const other = await TestDevice.create(h)
    await d.onboard()
    const {ticket} = await issue({site: 'plant-7'})
    expect((await redeem(d, ticket, {unsigned: true})).status).toBe(401)
    expect((await redeem(d, ticket, {key: other.privateKey})).status).toBe(401)
    const [p, , mac] = ticket.split('.')
    const forged = await redeem(d, `${p}.${Buffer.from('{"labels":{"site":"hq"},"expiresAt":9999999999}').toString('base64url')}.${mac}`)
    expect(forged.status).toBe(403)
    const later = new Date(Date.now() + 25 * 3600 * 1000)
    h.setClock(later)
    const expired = await redeem(d, ticket, {created: Math.floor(later.getTime() / 1000)})
    expect(expired.status).toBe(403)
    expect(((await expired.json()) as {error: {message: string}}).error.message).toContain('expired')
    h.setClock(null)
    other.clientId = crypto.randomUUID()
    expect((await redeem(other, ticket)).status).toBe(404)
    expect(labelsOf(d.clientId)).toEqual({})
  })

  test('the Margo device interface is unchanged: no enrollment path under /api/v1', async () => {
    h = await createHarness()
    expect((await h.fetch('/api/v1/enroll/labels', {method: 'POST', body: '{}'})).status).toBe(404)
  })
})

describe('downloads', () => {
  test('the install script, the unit and the CA as DER are served without authentication', async () => {
    h = await createHarness()
    const script = await h.app.handle(new Request(`${ORIGIN}/downloads/install.sh`))
    expect(script.status).toBe(200)
    expect(await script.text()).toStartWith('#!/bin/sh')
    expect(await (await h.app.handle(new Request(`${ORIGIN}/downloads/margo-agent.service`))).text()).toContain('ExecStart=/usr/local/bin/margo agent')
    const der = new Uint8Array(await (await h.app.handle(new Request(`${ORIGIN}/downloads/ca.der`))).arrayBuffer())
    const t = await issue({})
    expect(`sha256:${createHash('sha256').update(der).digest('hex')}`).toBe(t.caFingerprint)
  })

  test('release executables and SHA256SUMS come from the release directory; other names are not served', async () => {
    h = await createHarness()
    const none = await h.app.handle(new Request(`${ORIGIN}/downloads/SHA256SUMS`))
    expect(none.status).toBe(404)
    expect(await none.text()).toContain('--release-dir')

    const dir = mkdtempSync(join(tmpdir(), 'margo-release-'))
    writeFileSync(join(dir, 'margo-1.2.3-linux-arm64'), 'ELF')
    writeFileSync(join(dir, 'SHA256SUMS'), `${'0'.repeat(64)}  margo-1.2.3-linux-arm64\n`)
    writeFileSync(join(dir, 'secret.txt'), 'no')
    const app = downloadRoutes({releaseDir: dir, caCertificatePem: h.device.caCertificatePem})
    const get = (p: string) => app.handle(new Request(`${ORIGIN}/downloads/${p}`))
    expect(await (await get('margo-1.2.3-linux-arm64')).text()).toBe('ELF')
    expect(await (await get('SHA256SUMS')).text()).toContain('margo-1.2.3-linux-arm64')
    expect((await get('secret.txt')).status).toBe(404)
    expect((await get('margo-1.2.3-linux-riscv64')).status).toBe(404)
    expect((await get('..%2Fsecret.txt')).status).toBe(404)
  })
})
