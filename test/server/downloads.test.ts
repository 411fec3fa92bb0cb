import {afterEach, describe, expect, test} from 'bun:test'
import {createHash} from 'node:crypto'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {downloadRoutes} from '../../src/server/downloads/routes.ts'
import {createHarness, ORIGIN, type Harness} from './harness.ts'

let h: Harness
afterEach(() => h.close())

describe('downloads', () => {
  test('the install script, the unit and the CA as DER are served without authentication', async () => {
    h = await createHarness()
    const script = await h.app.handle(new Request(`${ORIGIN}/downloads/install.sh`))
    expect(script.status).toBe(200)
    expect(await script.text()).toStartWith('#!/bin/sh')
    expect(await (await h.app.handle(new Request(`${ORIGIN}/downloads/margo-agent.service`))).text()).toContain('ExecStart=/usr/local/bin/margo agent')
    const der = new Uint8Array(await (await h.app.handle(new Request(`${ORIGIN}/downloads/ca.der`))).arrayBuffer())
    // The fingerprint enroll commands write into their line is the one of the CA served here.
    const health = await (await h.operator('GET', '/health')).json() as {caFingerprint: string}
    expect(`sha256:${createHash('sha256').update(der).digest('hex')}`).toBe(health.caFingerprint)
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

test('labels reach devices only through join tokens: no ticket endpoints beside them', async () => {
  h = await createHarness()
  expect((await h.fetch('/enroll/labels', {method: 'POST', body: '{}'})).status).toBe(404)
  expect((await h.operator('POST', '/enrollment-tickets', {labels: {}})).status).toBe(404)
})
