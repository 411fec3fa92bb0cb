import {afterAll, beforeAll, beforeEach, describe, expect, test} from 'bun:test'
import {createHash} from 'node:crypto'
import {
  DeviceClient, RefusedUrlError, TransportError, parseOnboardingResponse, resolveManifestUrl, retriesAtOnce, type TransportErrorKind,
} from '../../../src/agent/device-client.ts'
import {ensureIdentity, type Identity} from '../../../src/agent/identity.ts'
import {createCertificateAuthority, parseCertificate} from '../../../src/pki/index.ts'
import {privateKeyToPem} from '../../../src/signing/index.ts'
import {PREFIX, startWfm, tempDir, type RecordedRequest, type WfmDouble} from './helpers.ts'

let wfm: WfmDouble
let identity: Identity
let stateDir: ReturnType<typeof tempDir>

beforeAll(async () => {
  wfm = await startWfm({clientId: 'c-7f3a'})
  stateDir = tempDir()
  identity = await ensureIdentity(stateDir.path, {keyType: 'p256', hostname: 'test-device'})
})
afterAll(() => {
  wfm.stop()
  stateDir.cleanup()
})
beforeEach(() => {
  wfm.requests.length = 0
  wfm.routes.length = 0
})

function client(extra: Partial<ConstructorParameters<typeof DeviceClient>[0]> = {}): DeviceClient {
  return new DeviceClient({server: wfm.base, caPem: wfm.caPem, privateKey: identity.privateKey, ...extra})
}

function onboarded(extra: Partial<ConstructorParameters<typeof DeviceClient>[0]> = {}): DeviceClient {
  const c = client(extra)
  c.clientId = wfm.clientId
  return c
}

function last(): RecordedRequest {
  const r = wfm.requests.at(-1)
  if (!r) throw new Error('no request reached the server')
  return r
}

function signatureParams(r: RecordedRequest): string {
  return r.headers.get('signature-input') ?? ''
}

async function expectTransportError(p: Promise<unknown>, kind: TransportErrorKind): Promise<TransportError> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(TransportError)
    expect((err as TransportError).kind).toBe(kind)
    return err as TransportError
  }
  throw new Error('expected a TransportError')
}

describe('CL-07: onboarding sends a signed OnboardingRequest with the certificate as base64 DER', () => {
  test('body, keyid and signature', async () => {
    wfm.devicePublicKey = null
    const res = await client().onboard(identity.certPem)
    expect(res.status).toBe(201)
    expect(parseOnboardingResponse(res.body)).toEqual({ok: true, clientId: wfm.clientId})
    const r = last()
    expect(r.method).toBe('POST')
    expect(r.url).toBe(`${wfm.base}/api/v1/onboarding`)
    const body = JSON.parse(new TextDecoder().decode(r.body))
    expect(Object.keys(body)).toEqual(['apiVersion', 'kind', 'certificate'])
    expect(body.apiVersion).toBe('onboarding.margo.org/v1alpha1')
    expect(body.kind).toBe('OnboardingRequest')
    expect(body.certificate).toMatch(/^[A-Za-z0-9+/]+=*$/)
    const parsed = parseCertificate(identity.certPem)
    if (!parsed.ok) throw new Error(parsed.reason)
    expect(Buffer.from(body.certificate, 'base64').equals(Buffer.from(parsed.der))).toBe(true)
    // keyid: the certificate's SHA-256 fingerprint, since no clientId exists yet.
    expect(r.keyid).toBe(createHash('sha256').update(parsed.der).digest('hex'))
    expect(r.keyid).toBe(identity.fingerprint)
    expect(r.verify).toMatchObject({ok: true, label: 'sig1', alg: 'ecdsa-p256-sha256'})
    expect(r.digest).toBe('ok')
  })

  test('onboarding responses without a URL-safe clientId are rejected', () => {
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v))
    expect(parseOnboardingResponse(enc({clientId: 'a/b'})).ok).toBe(false)
    expect(parseOnboardingResponse(enc({})).ok).toBe(false)
    expect(parseOnboardingResponse(new TextEncoder().encode('nope')).ok).toBe(false)
  })
})

describe('CL-09/CL-10/CL-11: every request is signed over real HTTPS and verifies', () => {
  beforeAll(async () => {
    await client().onboard(identity.certPem)
  })

  test('CL-09: GET covers @method and @target-uri, with created, keyid = clientId and alg', async () => {
    const res = await onboarded().getManifest(null)
    expect(res.status).toBe(200)
    const r = last()
    expect(r.verify).toMatchObject({ok: true, label: 'sig1', keyid: wfm.clientId, alg: 'ecdsa-p256-sha256', covered: ['@method', '@target-uri']})
    expect(signatureParams(r)).toMatch(/^sig1=\("@method" "@target-uri"\);created=\d+;keyid="c-7f3a";alg="ecdsa-p256-sha256"$/)
    expect(r.headers.get('content-digest')).toBeNull()
  })

  test('CL-10: Content-Digest is over the exact bytes sent, and those are the JSON serialization', async () => {
    const manifest = {apiVersion: 'device.margo.org/v1alpha1', kind: 'DeviceCapabilitiesManifest', properties: {id: 'ü-ñ', note: 'a "quoted" value'}}
    const res = await onboarded().reportCapabilities(manifest, 'POST')
    expect(res.status).toBe(201)
    const r = last()
    expect(new TextDecoder().decode(r.body)).toBe(JSON.stringify(manifest))
    expect(r.digest).toBe('ok')
    expect(r.headers.get('content-digest')).toBe(`sha-256=:${createHash('sha256').update(r.body).digest('base64')}:`)
    expect(r.headers.get('content-type')).toBe('application/json')
  })

  test('CL-11: bodies are covered by the signature, which verifies with the certificate key', async () => {
    const c = onboarded()
    for (const call of [
      () => c.reportCapabilities({a: 1}, 'PUT'),
      () => c.postStatus('a3e2f5dc-912e-494f-8395-52cf3769bc06', {kind: 'DeploymentStatusManifest'}),
    ]) {
      const res = await call()
      expect(res.status).toBeLessThan(300)
      const r = last()
      expect(r.verify).toMatchObject({ok: true, keyid: wfm.clientId, covered: ['@method', '@target-uri', 'content-digest']})
      expect(r.headers.get('signature')).toMatch(/^sig1=:[A-Za-z0-9+/]+=*:$/)
    }
    expect(wfm.requests.map(r => `${r.method} ${r.path}`)).toEqual([
      'PUT /api/v1/clients/c-7f3a/capabilities',
      'POST /api/v1/clients/c-7f3a/deployments/a3e2f5dc-912e-494f-8395-52cf3769bc06/status',
    ])
  })

  test('a tampered body fails the server check, so the test server really verifies', async () => {
    const tampering = (async (input: string, init?: RequestInit) => fetch(input, {...init, body: '{"a":2}'} as RequestInit)) as typeof fetch
    const res = await onboarded({fetch: tampering}).reportCapabilities({a: 1}, 'PUT')
    expect(res.status).toBe(401)
    expect(last().digest).toBe('mismatch')
  })

  test('RSA and P-384 identities sign too', async () => {
    for (const keyType of ['p384', 'rsa2048'] as const) {
      const dir = tempDir()
      try {
        const id = await ensureIdentity(dir.path, {keyType, hostname: 'h'})
        const c = new DeviceClient({server: wfm.base, caPem: wfm.caPem, privateKey: id.privateKey})
        expect((await c.onboard(id.certPem)).status).toBe(201)
        c.clientId = wfm.clientId
        expect((await c.getManifest(null)).status).toBe(200)
        expect(last().verify?.ok).toBe(true)
      } finally {
        dir.cleanup()
      }
    }
    await client().onboard(identity.certPem)
  })
})

describe('CL-16: the manifest poll asks for the manifest media type and revalidates', () => {
  test('Accept and If-None-Match; a 304 comes back as is', async () => {
    const c = onboarded()
    const first = await c.getManifest(null)
    expect(first.status).toBe(200)
    expect(last().headers.get('accept')).toBe('application/vnd.margo.manifest.v1+json')
    expect(last().headers.get('if-none-match')).toBeNull()
    const etag = first.headers.get('etag')
    expect(etag).toBe('"sha256:abc"')
    const second = await c.getManifest(etag)
    expect(second.status).toBe(304)
    expect(second.body.byteLength).toBe(0)
    expect(last().headers.get('if-none-match')).toBe('"sha256:abc"')
  })

  test('Retry-After is surfaced', async () => {
    wfm.routes.push(() => new Response(null, {status: 503, headers: {'retry-after': '120'}}))
    const res = await onboarded().getManifest(null)
    expect(res.status).toBe(503)
    expect(res.retryAfter).toBe('120')
  })

  test('requests need a clientId', () => {
    expect(() => client().getManifest(null)).toThrow(/not onboarded/)
  })
})

describe('manifest URLs are appended to the configured root and confined to this client', () => {
  test('the /v1alpha2/margo prefix is kept and the fetch is signed for the full URL', async () => {
    const res = await onboarded().getArtifact(`/api/v1/clients/${wfm.clientId}/bundles/sha256:${'a'.repeat(64)}`, '"x"')
    expect(res.status).toBe(200)
    const r = last()
    expect(r.url).toBe(`${wfm.base}/api/v1/clients/${wfm.clientId}/bundles/sha256:${'a'.repeat(64)}`)
    expect(new URL(r.url).pathname.startsWith(PREFIX)).toBe(true)
    expect(r.verify?.ok).toBe(true)
    expect(r.headers.get('if-none-match')).toBe('"x"')
  })

  test('resolution keeps the prefix where RFC 3986 would drop it', () => {
    expect(resolveManifestUrl('https://wfm.example/v1alpha2/margo', 'c1', '/api/v1/clients/c1/deployments/d/sha256:ab'))
      .toBe('https://wfm.example/v1alpha2/margo/api/v1/clients/c1/deployments/d/sha256:ab')
    expect(resolveManifestUrl('https://wfm.example', 'c1', '/api/v1/clients/c1/bundles/x?y=1'))
      .toBe('https://wfm.example/api/v1/clients/c1/bundles/x?y=1')
  })

  const foreign = [
    'https://evil.example/api/v1/clients/c-7f3a/bundles/x',
    '//evil.example/api/v1/clients/c-7f3a/bundles/x',
    '/api/v1/clients/someone-else/bundles/x',
    '/api/v1/clients/c-7f3a/../someone-else/bundles/x',
    '/api/v1/clients/c-7f3a/%2e%2e/someone-else/x',
    '/api/v1/clients/c-7f3a/bundles/x%2f..%2f..',
    '/api/v1/clients/c-7f3a//x',
    '/api/v1/clients/c-7f3a/bundles/x\\..\\..',
    '/api/v1/clients/c-7f3a/bundles/x#frag',
    'api/v1/clients/c-7f3a/bundles/x',
    '',
  ]
  for (const url of foreign) {
    test(`refuses ${JSON.stringify(url)} without sending anything`, () => {
      expect(() => onboarded().getArtifact(url)).toThrow(RefusedUrlError)
      expect(wfm.requests).toHaveLength(0)
    })
  }

  test('a redirect is returned, not followed', async () => {
    wfm.routes.push(() => new Response(null, {status: 302, headers: {location: 'https://127.0.0.1:1/elsewhere'}}))
    const res = await onboarded().getArtifact(`/api/v1/clients/${wfm.clientId}/deployments/d/sha256:ab`)
    expect(res.status).toBe(302)
    expect(wfm.requests).toHaveLength(1)
  })
})

describe('response bodies are capped', () => {
  test('a declared Content-Length over the cap', async () => {
    wfm.routes.push(() => new Response(new Uint8Array(2048)))
    const err = await expectTransportError(onboarded({maxBodyBytes: 1024}).getManifest(null), 'too_large')
    expect(err.message).toContain('1024')
  })

  test('a streamed body that grows past the cap', async () => {
    wfm.routes.push(() => new Response(new ReadableStream({
      start(controller) {
        for (let i = 0; i < 64; i++) controller.enqueue(new Uint8Array(1024))
        controller.close()
      },
    })))
    await expectTransportError(onboarded({maxBodyBytes: 16 * 1024}).getManifest(null), 'too_large')
  })

  test('bundles get the larger cap, other artifacts the smaller one', async () => {
    wfm.routes.push(() => new Response(new Uint8Array(4096)))
    const c = onboarded({maxBodyBytes: 1024, maxBundleBytes: 8192})
    expect((await c.getArtifact(`/api/v1/clients/${wfm.clientId}/bundles/sha256:aa`)).body.byteLength).toBe(4096)
    await expectTransportError(c.getArtifact(`/api/v1/clients/${wfm.clientId}/deployments/d/sha256:aa`), 'too_large')
  })
})

describe('transport failures are typed and readable', () => {
  test('connection refused', async () => {
    const c = new DeviceClient({server: 'https://127.0.0.1:1/v1alpha2/margo', caPem: wfm.caPem, privateKey: identity.privateKey, clientId: 'c1'})
    const err = await expectTransportError(c.getManifest(null), 'refused')
    expect(err.exitCode).toBe(5)
  })

  test('CL-04: a server whose certificate does not chain to the trusted CA is refused', async () => {
    const other = await createCertificateAuthority({commonName: 'someone else'})
    const c = onboarded({caPem: other.certPem})
    const err = await expectTransportError(c.getManifest(null), 'tls')
    expect(err.message).toContain('CA')
    expect(wfm.requests).toHaveLength(0)
  })

  test('CL-05: a host name that is not in the server certificate is refused', async () => {
    const c = new DeviceClient({server: wfm.base.replace('127.0.0.1', 'localhost'), caPem: wfm.caPem, privateKey: identity.privateKey, clientId: wfm.clientId})
    const err = await expectTransportError(c.getManifest(null), 'tls')
    expect(err.message).toContain('localhost')
  })

  test('timeout', async () => {
    // A fetch that never answers; only the client's own deadline can end it.
    const hanging = onboarded({timeoutMs: 150, fetch: (_input, init) => new Promise<Response>((_resolve, reject) => {
      init?.signal?.addEventListener('abort', () => reject(init.signal!.reason))
    })})
    const err = await expectTransportError(hanging.getManifest(null), 'timeout')
    expect(err.message).toContain('did not answer')
  })

  test('no error message carries key material', async () => {
    const keyPem = privateKeyToPem(identity.privateKey)
    const keyBody = keyPem.split('\n').slice(1, -2).join('')
    const c = new DeviceClient({server: 'https://127.0.0.1:1', caPem: wfm.caPem, privateKey: identity.privateKey, clientId: 'c1'})
    const err = await expectTransportError(c.getManifest(null), 'refused')
    expect(`${err.message} ${err.stack}`).not.toContain(keyBody.slice(0, 40))
  })

  test('the constructor refuses plain HTTP and an empty trust store', () => {
    expect(() => new DeviceClient({server: 'http://127.0.0.1', caPem: wfm.caPem, privateKey: identity.privateKey})).toThrow(/https/)
    expect(() => new DeviceClient({server: wfm.base, caPem: '', privateKey: identity.privateKey})).toThrow(/PEM/)
  })
})

describe('a connection closed before any answer', () => {
  /** A fetch that fails with the given codes first, then answers 304, recording every call. */
  function flaky(...codes: string[]) {
    const calls: {method: string, signature: string}[] = []
    const fetch = async (_input: string, init?: RequestInit) => {
      const headers = init?.headers as Record<string, string>
      calls.push({method: init?.method ?? 'GET', signature: headers['signature-input'] ?? ''})
      const code = codes.shift()
      if (code) throw Object.assign(new Error('The socket connection was closed unexpectedly'), {code})
      return new Response(null, {status: 304})
    }
    return {calls, fetch}
  }

  test('an idempotent request is sent again at once, signed again', async () => {
    const f = flaky('ECONNRESET')
    const res = await onboarded({fetch: f.fetch}).getManifest('"v1"')
    expect(res.status).toBe(304)
    expect(f.calls.map(c => c.method)).toEqual(['GET', 'GET'])
    expect(f.calls.every(c => c.signature.includes('keyid="c-7f3a"'))).toBe(true)
  })

  test('a PUT of the capabilities is too', async () => {
    const f = flaky('ECONNRESET')
    const res = await onboarded({fetch: f.fetch}).reportCapabilities({kind: 'DeviceCapabilities'}, 'PUT')
    expect(res.status).toBe(304)
    expect(f.calls).toHaveLength(2)
  })

  test('only once: a second reset is the caller’s to handle with its back-off', async () => {
    const f = flaky('ECONNRESET', 'ECONNRESET')
    await expectTransportError(onboarded({fetch: f.fetch}).getManifest(null), 'reset')
    expect(f.calls).toHaveLength(2)
  })

  test('a POST is never repeated: the server may have acted on it', async () => {
    const f = flaky('ECONNRESET')
    await expectTransportError(onboarded({fetch: f.fetch}).postStatus('d-1', {state: 'installed'}), 'reset')
    const g = flaky('ECONNRESET')
    await expectTransportError(client({fetch: g.fetch}).onboard(identity.certPem), 'reset')
    expect([f.calls.length, g.calls.length]).toEqual([1, 1])
  })

  test('other failures are not retried here', async () => {
    const f = flaky('ECONNREFUSED')
    await expectTransportError(onboarded({fetch: f.fetch}).getManifest(null), 'refused')
    expect(f.calls).toHaveLength(1)
    const reset = new TransportError('closed', 'reset', 'https://wfm.example')
    expect(retriesAtOnce('GET', reset, 1)).toBe(true)
    expect(retriesAtOnce('GET', reset, 2)).toBe(false)
    expect(retriesAtOnce('POST', reset, 1)).toBe(false)
    expect(retriesAtOnce('GET', new TransportError('slow', 'timeout', 'https://wfm.example'), 1)).toBe(false)
    expect(retriesAtOnce('GET', new Error('ECONNRESET'), 1)).toBe(false)
  })
})
