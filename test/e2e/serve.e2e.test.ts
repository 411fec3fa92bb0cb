import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {createHash, X509Certificate} from 'node:crypto'
import {gunzipSync} from 'node:zlib'
import {capabilitiesBody, HELLO_WORLD, statusBody, TestDevice} from '../server/harness.ts'
import pjson from '../../package.json' with {type: 'json'}
import {BIN, cli, openServerDatabase, startServe, type ServeProcess} from './binary.ts'

const sha256 = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex')

let server: ServeProcess
beforeAll(async () => { server = await startServe(['--enrollment', 'auto']) })
afterAll(async () => { await server.stop() })

describe('compiled margo serve, end to end over HTTPS', () => {
  test('--help of the compiled binary lists every command', () => {
    const r = cli(server.dataDir, '--help')
    for (const c of ['serve', 'deploy', 'undeploy', 'status', 'login', 'device', 'app']) expect(r.stdout).toContain(c)
  })

  test('--help into a pipe, precomputed when the binary was built, is oclif\'s own output byte for byte', () => {
    const help = (env: Record<string, string> = {}) => Bun.spawnSync([BIN, '--help'], {stdout: 'pipe', stderr: 'pipe', env: {...process.env, ...env}})
    const precomputed = help()
    expect(precomputed.exitCode).toBe(0)
    expect(precomputed.stderr.toString()).toBe('')
    // OCLIF_COLUMNS takes oclif's path; at 80 columns it is what oclif prints into any pipe.
    const oclif = help({OCLIF_COLUMNS: '80'})
    expect(oclif.exitCode).toBe(0)
    expect(precomputed.stdout.toString()).toBe(oclif.stdout.toString())
    expect(precomputed.stdout.toString()).toContain(`margo/${pjson.version} ${process.platform}-${process.arch} bun-${Bun.version}`)
    for (const c of ['serve', 'deploy', 'undeploy', 'status', 'login', 'device', 'app', 'rollout', 'agent']) expect(precomputed.stdout.toString()).toMatch(new RegExp(`^  ${c}\\s`, 'm'))
    // Forced colour is oclif's to render.
    expect(help({FORCE_COLOR: '1'}).stdout.toString()).toContain('\u001b[')
  })

  test('WFM-02/03: serves HTTPS with a certificate that chains to the published root CA', async () => {
    const res = await fetch(`${server.url}/api/v1/onboarding/certificate`, {tls: {ca: server.ca}})
    const {certificate} = (await res.json()) as {certificate: string}
    const published = new X509Certificate(Buffer.from(certificate, 'base64'))
    expect(published.fingerprint256).toBe(new X509Certificate(server.ca).fingerprint256)
    // Without the CA the TLS handshake must fail: nothing is trusted by accident.
    await expect(fetch(`${server.url}/api/v1/onboarding/certificate`)).rejects.toThrow()
  })

  test('the start-up line gives agents the server URL and the CA fingerprint to pin', () => {
    const der = new Uint8Array(new X509Certificate(server.ca).raw)
    expect(server.startup).toContain(`margo agent --server ${server.url} --ca-fingerprint ${sha256(der)}`)
  })

  test('WFM-01: three devices (P-256, P-384, RSA-2048): onboard, capabilities, deploy, fetch, status, undeploy', async () => {
    const t = server.transport()
    const devices = await Promise.all((['p256', 'p384', 'rsa2048'] as const).map(k => TestDevice.create(t, k)))
    for (const d of devices) {
      await d.onboard()
      expect((await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody(d.keyType)})).status).toBe(201)
    }
    const published = cli(server.dataDir, 'app', 'publish', HELLO_WORLD, '--json')
    expect(published.code).toBe(0)

    for (const d of devices) {
      const first = await d.send('GET', '/api/v1/clients/{clientId}/deployments')
      expect(await first.json()).toEqual({manifestVersion: 1, bundle: null, deployments: []})
      const etag1 = first.headers.get('etag')!

      const deployed = cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--device', d.clientId, '--set', 'greeting=Servus', '--json')
      expect(deployed.code).toBe(0)
      const deploymentId = deployed.json<{deploymentId: string}>().deploymentId

      const polled = await d.send('GET', '/api/v1/clients/{clientId}/deployments', {headers: {'if-none-match': etag1}})
      expect(polled.status).toBe(200)
      const bytes = new Uint8Array(await polled.arrayBuffer())
      expect(polled.headers.get('etag')).toBe(`"${sha256(bytes)}"`)
      const manifest = JSON.parse(new TextDecoder().decode(bytes)) as {manifestVersion: number, bundle: {digest: string, url: string}, deployments: {deploymentId: string, digest: string, url: string}[]}
      expect(manifest.manifestVersion).toBe(2)
      expect(manifest.deployments.map(x => x.deploymentId)).toEqual([deploymentId])

      const yamlRes = await d.send('GET', manifest.deployments[0]!.url)
      const yaml = new Uint8Array(await yamlRes.arrayBuffer())
      expect(sha256(yaml)).toBe(manifest.deployments[0]!.digest)
      expect(new TextDecoder().decode(yaml)).toContain('Servus')
      const bundleRes = await d.send('GET', manifest.bundle.url)
      const bundle = new Uint8Array(await bundleRes.arrayBuffer())
      expect(sha256(bundle)).toBe(manifest.bundle.digest)
      expect(gunzipSync(bundle).includes(Buffer.from(yaml))).toBe(true)

      for (const state of ['pending', 'installing', 'installed']) {
        const r = await d.send('POST', `/api/v1/clients/{clientId}/deployments/${deploymentId}/status`, {body: statusBody(deploymentId, state)})
        expect(r.status).toBe(200)
      }
      const status = cli(server.dataDir, 'status', '--device', d.clientId, '--json')
      expect(status.code).toBe(0)
      expect(JSON.stringify(status.json())).toContain('"installed"')

      expect(cli(server.dataDir, 'undeploy', deploymentId, '--json').code).toBe(0)
      const after = await d.send('GET', '/api/v1/clients/{clientId}/deployments')
      expect(await after.json()).toEqual({manifestVersion: 3, bundle: null, deployments: []})
      for (const state of ['removing', 'removed']) {
        const r = await d.send('POST', `/api/v1/clients/{clientId}/deployments/${deploymentId}/status`, {body: statusBody(deploymentId, state)})
        expect(r.status).toBe(200)
      }
    }
    const list = cli(server.dataDir, 'device', 'list', '--json')
    expect(list.json<unknown[]>()).toHaveLength(3)
  })

  test('WFM-02: TLS 1.3 is required; a TLS 1.2-only client is refused', () => {
    if (!Bun.which('openssl')) throw new Error('openssl is needed for this test (apt-get install openssl)')
    const attempt = (version: string) => Bun.spawnSync(['openssl', 's_client', '-connect', `127.0.0.1:${server.port}`, version], {stdin: new TextEncoder().encode(''), stdout: 'pipe', stderr: 'pipe'})
    const tls12 = attempt('-tls1_2')
    expect(tls12.stdout.toString() + tls12.stderr.toString()).toMatch(/alert protocol version|no protocols available|Cipher is \(NONE\)/)
    const tls13 = attempt('-tls1_3')
    expect(tls13.stdout.toString()).toContain('TLSv1.3')
  })

  test('secrets and the database are readable by the owner only', async () => {
    const {statSync} = await import('node:fs')
    for (const file of ['operator-token', 'tls/ca.key', 'tls/server.key', 'margo.db']) {
      expect(statSync(`${server.dataDir}/${file}`).mode & 0o077).toBe(0)
    }
  })

  test('client mistakes never produce a 500', async () => {
    const t = server.transport()
    for (const [method, path, body] of [
      ['POST', '/api/v1/onboarding', '{'],
      ['POST', '/api/v1/onboarding', '[]'],
      ['POST', '/api/v1/onboarding', '{"certificate": 5}'],
      ['GET', '/api/v1/clients/%00/deployments', undefined],
      ['GET', '/api/v1/nope', undefined],
      ['DELETE', '/api/v1/onboarding', undefined],
    ] as const) {
      const res = await t.handle(new Request(server.url + path, {method, body, headers: {'content-type': 'application/json'}}))
      expect(res.status).toBeLessThan(500)
    }
  })

  test('one device cannot break the fleet-wide views: hostile capabilities are refused, a hostile stored record survives a restart', async () => {
    const t = server.transport()
    const d = await TestDevice.create(t)
    await d.onboard()
    const deep = JSON.stringify(capabilitiesBody('hostile')).replace(/}$/, `,"x-acme-extensions":${'['.repeat(50_000)}${']'.repeat(50_000)}}`)
    const refused = await d.send('PUT', '/api/v1/clients/{clientId}/capabilities', {body: deep})
    expect(refused.status).toBe(422)
    expect(((await refused.json()) as {errors: {field: string}[]}).errors[0]!.field).toStartWith('x-acme-extensions[0]')

    // A record stored before the limits existed, written straight into the store.
    const other = await startServe(['--enrollment', 'auto'])
    try {
      const od = await TestDevice.create(other.transport())
      await od.onboard()
      const db = openServerDatabase(other.dataDir)
      db.query('UPDATE clients SET capabilities_json = ? WHERE client_id = ?').run(`{"x":${'['.repeat(50_000)}${']'.repeat(50_000)}}`, od.clientId)
      db.close()
      await other.stop()
      const restarted = await startServe(['--enrollment', 'auto'], other.dataDir)
      try {
        const list = cli(restarted.dataDir, 'device', 'list', '--json')
        expect(list.code).toBe(0)
        expect(list.json<{clientId: string, capabilities: unknown, unreadable: string[]}[]>()).toMatchObject([{clientId: od.clientId, capabilities: null, unreadable: ['capabilities']}])
        expect(cli(restarted.dataDir, 'device', 'show', od.clientId, '--json').code).toBe(0)
        expect(cli(restarted.dataDir, 'device', 'revoke', od.clientId, '--json').code).toBe(0)
        expect(cli(restarted.dataDir, 'status', '--json').code).toBe(0)
      } finally {
        await restarted.stop()
      }
    } finally {
      await other.stop()
    }
  }, 60_000)

  test('status reports over HTTPS: components checked, size bounded, repeats coalesced, floods throttled', async () => {
    const d = await TestDevice.create(server.transport())
    await d.onboard()
    expect((await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('reporter')})).status).toBe(201)
    cli(server.dataDir, 'app', 'publish', HELLO_WORLD)
    const deploymentId = cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--device', d.clientId, '--json').json<{deploymentId: string}>().deploymentId
    const post = (body: unknown) => d.send('POST', `/api/v1/clients/{clientId}/deployments/${deploymentId}/status`, {body})

    expect((await post(statusBody(deploymentId, 'installed', [{name: 'bogus', state: 'installed'}]))).status).toBe(422)
    const huge = {...statusBody(deploymentId, 'failed'), status: {state: 'failed', error: {code: 'BIG', message: 'm'.repeat(850 * 1024)}}}
    expect((await post(huge)).status).toBe(413)
    for (let i = 0; i < 40; i++) expect((await post(statusBody(deploymentId, 'installed'))).status).toBe(200)
    const token = (await Bun.file(`${server.dataDir}/operator-token`).text()).trim()
    const view = await (await fetch(`${server.url}/operator/v1/status/${deploymentId}`, {headers: {authorization: `Bearer ${token}`}, tls: {ca: server.ca}})).json() as {deployments: {timeline: {state: string, count?: number}[]}[]}
    expect(view.deployments[0]!.timeline.map(e => [e.state, e.count])).toEqual([['installed', 40]])

    // The burst of 60 is nearly spent (41 taken): the flood ends in 429 with Retry-After.
    let throttled: Response | undefined
    for (let i = 0; i < 40 && !throttled; i++) {
      const r = await post(statusBody(deploymentId, 'installed'))
      if (r.status === 429) throttled = r
      else expect(r.status).toBe(200)
    }
    expect(throttled?.headers.get('retry-after')).toMatch(/^[1-9]\d*$/)
  }, 60_000)

  test('SIGTERM stops the server cleanly and removes server.json', async () => {
    const other = await startServe(['--enrollment', 'auto'])
    expect(await other.stop()).toBe(0)
    expect(await Bun.file(`${other.dataDir}/server.json`).exists()).toBe(false)
  })
})
