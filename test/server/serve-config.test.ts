import {afterEach, describe, expect, test} from 'bun:test'
import {normalizeBasePath, parseListen, ServeError} from '../../src/server/serve.ts'
import {createHarness, TestDevice, type Harness} from './harness.ts'

describe('serve settings', () => {
  test('--listen accepts HOST:PORT, :PORT and [IPv6]:PORT and refuses anything else with exit 2', () => {
    expect(parseListen('0.0.0.0:443')).toEqual({hostname: '0.0.0.0', port: 443})
    expect(parseListen(':8443')).toEqual({hostname: '0.0.0.0', port: 8443})
    expect(parseListen('[::1]:8443')).toEqual({hostname: '::1', port: 8443})
    for (const bad of ['8443', 'host', 'host:99999', '']) {
      expect(() => parseListen(bad)).toThrow(ServeError)
    }
  })

  test('--base-path is normalised and validated', () => {
    expect(normalizeBasePath('')).toBe('')
    expect(normalizeBasePath('/v1alpha2/margo/')).toBe('/v1alpha2/margo')
    expect(() => normalizeBasePath('v1 alpha')).toThrow(ServeError)
  })
})

let h: Harness | undefined
afterEach(() => h?.close())

describe('device interface under a base path and behind a proxy', () => {
  test('the whole API works under /v1alpha2/margo, and manifest URLs stay relative to the API root', async () => {
    h = await createHarness({basePath: '/v1alpha2/margo'})
    const d = await TestDevice.create(h)
    await d.onboard()
    const res = await d.send('GET', '/api/v1/clients/{clientId}/deployments')
    expect(res.status).toBe(200)
    const bare = await h.app.handle(new Request(`https://wfm.test/api/v1/onboarding/certificate`))
    expect(bare.status).toBe(404)
  })

  test('with --external-url, @target-uri is checked against the public URL, not the internal hop', async () => {
    h = await createHarness({basePath: '/margo', externalUrl: 'https://wfm.example.com/public'})
    // The device signs the public URL; the request reaches the server on its internal address.
    const publicBase = 'https://wfm.example.com/public'
    const d = await TestDevice.create({base: publicBase, handle: r => h!.app.handle(new Request(r.url.replace(publicBase, 'https://10.0.0.1:8443/margo'), r))})
    await d.onboard()
    expect((await d.send('GET', '/api/v1/clients/{clientId}/deployments')).status).toBe(200)
    // Signing the internal URL instead fails: a signature is bound to the URL devices use.
    const internal = await TestDevice.create({base: 'https://10.0.0.1:8443/margo', handle: r => h!.app.handle(r)})
    internal.clientId = d.clientId
    expect((await internal.send('GET', '/api/v1/clients/{clientId}/deployments', {key: d.privateKey})).status).toBe(401)
  })
})
