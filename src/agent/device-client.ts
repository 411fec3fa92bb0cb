import {createHash, type KeyObject} from 'node:crypto'
import {MargoError} from '../util/errors.ts'
import {ONBOARDING_API_VERSION, ONBOARDING_KIND} from '../margo/onboarding.ts'
import {MANIFEST_MEDIA_TYPE} from '../margo/media-types.ts'
import {parseCertificate} from '../pki/index.ts'
import {defaultAlgorithm, signRequest, type SignatureAlgorithm} from '../signing/index.ts'

/** The subset of `fetch` the agent uses; `globalThis.fetch` fits, and so does a test double. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

export interface HttpResult {
  status: number
  headers: Headers
  body: Uint8Array
  retryAfter: string | null
}

export type TransportErrorKind = 'timeout' | 'refused' | 'dns' | 'reset' | 'tls' | 'too_large' | 'aborted' | 'network'

/**
 * The request got no HTTP answer (or an unusable one): DNS, connection, TLS, timeout, or a
 * body over the size cap. Always worth retrying later except for `tls`, which needs the
 * operator. Messages carry the URL and the cause, never key material.
 */
export class TransportError extends MargoError {
  readonly exitCode = 5
  readonly kind: TransportErrorKind
  readonly url: string

  constructor(message: string, kind: TransportErrorKind, url: string, cause?: unknown) {
    super(message, {code: kind, cause})
    this.kind = kind
    this.url = url
  }
}

/** A URL from a manifest that points anywhere but this client's own resources on the configured server. */
export class RefusedUrlError extends MargoError {
  readonly exitCode = 1
  readonly url: string

  constructor(url: string, reason: string) {
    super(`refusing to fetch ${JSON.stringify(url.slice(0, 200))} from the manifest: ${reason}`, {code: 'refused_url'})
    this.url = url
  }
}

const TLS_CODE = /^(EPROTO|ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|HOSTNAME_MISMATCH|TLS)/

/** Turns whatever fetch threw into a TransportError that says what to check. */
export function transportErrorFrom(err: unknown, url: string, timeoutMs: number): TransportError {
  if (err instanceof TransportError) return err
  const e = err as {code?: unknown, name?: string, message?: string} | undefined
  const code = typeof e?.code === 'string' ? e.code : ''
  let host = url
  try {
    host = new URL(url).host
  } catch { /* keep the raw text */ }
  if (e?.name === 'TimeoutError') {
    return new TransportError(`${url} did not answer within ${Math.round(timeoutMs / 1000)}s — check the network path to ${host}`, 'timeout', url, err)
  }
  if (e?.name === 'AbortError') return new TransportError(`request to ${url} was cancelled`, 'aborted', url, err)
  if (code === 'ECONNREFUSED' || code === 'ConnectionRefused') {
    return new TransportError(`cannot reach ${host}: connection refused — check the server URL and that the fleet manager is running`, 'refused', url, err)
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'DNSException') {
    return new TransportError(`cannot reach ${host}: the host name does not resolve — check the server URL and DNS`, 'dns', url, err)
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
    return new TransportError(`TLS with ${host} failed: its certificate does not name ${host.replace(/:\d+$/, '')} — use the host name the fleet manager's certificate was issued for`, 'tls', url, err)
  }
  if (TLS_CODE.test(code)) {
    return new TransportError(
      `TLS with ${host} failed (${code}): the server certificate does not chain to the trusted fleet-manager CA — check --ca-file/--ca-fingerprint, and if the fleet manager's CA was replaced, remove ca.pem from the agent state directory`,
      'tls', url, err)
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ConnectionClosed') {
    return new TransportError(`the connection to ${host} was closed unexpectedly (${code}); will retry`, 'reset', url, err)
  }
  return new TransportError(`cannot reach ${host}: ${code || e?.message || String(err)}`, 'network', url, err)
}

/**
 * Reads a body without ever holding more than `cap` bytes, so a hostile or broken server
 * cannot exhaust the memory of a small device.
 */
export async function readBodyCapped(response: Response, cap: number, url: string, timeoutMs: number): Promise<Uint8Array> {
  const tooLarge = (size: string) => new TransportError(
    `the response from ${url} is larger than the ${cap} bytes the agent accepts (${size})`, 'too_large', url)
  const declared = Number(response.headers.get('content-length') ?? NaN)
  if (Number.isFinite(declared) && declared > cap) {
    await response.body?.cancel().catch(() => {})
    throw tooLarge(`Content-Length ${declared}`)
  }
  if (!response.body) return new Uint8Array(0)
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    for (;;) {
      const {done, value} = await reader.read()
      if (done) break
      total += value.byteLength
      if (total > cap) {
        await reader.cancel().catch(() => {})
        throw tooLarge('at least ' + total)
      }
      chunks.push(value)
    }
  } catch (err) {
    throw transportErrorFrom(err, url, timeoutMs)
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

/** RFC 3986 pchar without percent-encoding: a clientId made of these can sit in a path as is. */
const URL_SAFE_ID = /^[A-Za-z0-9._~!$&'()*+,;=:@-]{1,256}$/

export function isUrlSafeId(id: string): boolean {
  return URL_SAFE_ID.test(id)
}

/** `{"clientId": "…"}` from a 201 onboarding answer. */
export function parseOnboardingResponse(body: Uint8Array): {ok: true, clientId: string} | {ok: false, reason: string} {
  let doc: unknown
  try {
    doc = JSON.parse(new TextDecoder().decode(body))
  } catch {
    return {ok: false, reason: 'the onboarding response is not JSON'}
  }
  const clientId = (doc as {clientId?: unknown} | null)?.clientId
  if (typeof clientId !== 'string' || clientId === '') return {ok: false, reason: 'the onboarding response has no clientId'}
  if (!isUrlSafeId(clientId)) return {ok: false, reason: `the clientId ${JSON.stringify(clientId.slice(0, 80))} is not URL-safe`}
  return {ok: true, clientId}
}

/**
 * The absolute URL for a `url` taken from a manifest. Manifest URLs are paths under the
 * configured root URL, which may itself carry a prefix such as `/v1alpha2/margo`, so they are
 * appended to it (RFC 3986 resolution would drop the prefix). Only this client's own
 * resources are acceptable: a manifest must not send the agent anywhere else.
 */
export function resolveManifestUrl(server: string, clientId: string, url: string): string {
  if (typeof url !== 'string' || url.length === 0) throw new RefusedUrlError(String(url), 'it is empty')
  if (url.length > 4096) throw new RefusedUrlError(url, 'it is longer than 4096 characters')
  const prefix = `/api/v1/clients/${clientId}/`
  if (!url.startsWith(prefix)) throw new RefusedUrlError(url, `it does not start with ${prefix}`)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters in a URL are what this refuses
  if (/[\s\\#\u0000-\u001f\u007f]/.test(url)) throw new RefusedUrlError(url, 'it contains whitespace, a backslash, a fragment or control characters')
  const pathPart = url.split('?')[0]!
  if (pathPart.includes('//')) throw new RefusedUrlError(url, 'it contains an empty path segment')
  if (/%(2e|2f|5c)/i.test(pathPart)) throw new RefusedUrlError(url, 'it contains an encoded dot, slash or backslash')
  if (pathPart.split('/').some(s => s === '.' || s === '..')) throw new RefusedUrlError(url, 'it contains a dot segment')
  const base = new URL(server)
  const resolved = new URL(server.replace(/\/+$/, '') + url)
  const expected = base.pathname.replace(/\/+$/, '') + prefix
  if (resolved.origin !== base.origin || !resolved.pathname.startsWith(expected)) {
    throw new RefusedUrlError(url, `it resolves outside ${base.origin}${expected}`)
  }
  return resolved.href
}

export interface DeviceClientOptions {
  /** WFM root URL, possibly with a prefix such as `/v1alpha2/margo`. */
  server: string
  /** The only trust anchors for the WFM's TLS certificate. */
  caPem: string
  privateKey: KeyObject
  alg?: SignatureAlgorithm
  fetch?: FetchLike
  /** Per request (answer and body), default 30 s. */
  timeoutMs?: number
  /** Per artifact download (YAML, bundle), default 5 min: bundles over slow cellular links take a while. */
  artifactTimeoutMs?: number
  /** Body cap for everything except bundles, default 4 MiB. */
  maxBodyBytes?: number
  /** Body cap for bundles, default 64 MiB. */
  maxBundleBytes?: number
  clientId?: string
  userAgent?: string
  /** Aborts requests in flight, e.g. on shutdown. */
  signal?: AbortSignal
}

interface SendOptions {
  method: 'GET' | 'POST' | 'PUT'
  url: string
  keyId: string
  json?: unknown
  headers?: Record<string, string>
  cap: number
  timeoutMs: number
}

const MiB = 1024 * 1024

/**
 * The device side of the Margo API. Every request is signed (RFC 9421 `sig1` over `@method`,
 * `@target-uri` and, with a body, `content-digest`), and TLS is verified against the WFM CA
 * only, with host name checking. Returns the HTTP answer as is; deciding what a status means
 * is the caller's job.
 */
export class DeviceClient {
  readonly server: string
  private readonly caPem: string
  private readonly privateKey: KeyObject
  private readonly alg: SignatureAlgorithm
  private readonly fetchImpl: FetchLike
  private readonly timeoutMs: number
  private readonly artifactTimeoutMs: number
  private readonly maxBodyBytes: number
  private readonly maxBundleBytes: number
  private readonly userAgent: string | undefined
  private readonly signal: AbortSignal | undefined
  private id: string | undefined

  constructor(opts: DeviceClientOptions) {
    const url = new URL(opts.server)
    if (url.protocol !== 'https:') throw new TypeError('the fleet manager URL must use https://')
    if (!opts.caPem.includes('-----BEGIN CERTIFICATE-----')) throw new TypeError('caPem must hold at least one PEM certificate')
    this.server = opts.server.replace(/\/+$/, '')
    this.caPem = opts.caPem
    this.privateKey = opts.privateKey
    this.alg = opts.alg ?? defaultAlgorithm(opts.privateKey)
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init))
    this.timeoutMs = opts.timeoutMs ?? 30_000
    this.artifactTimeoutMs = opts.artifactTimeoutMs ?? 300_000
    this.maxBodyBytes = opts.maxBodyBytes ?? 4 * MiB
    this.maxBundleBytes = opts.maxBundleBytes ?? 64 * MiB
    this.userAgent = opts.userAgent
    this.signal = opts.signal
    if (opts.clientId !== undefined) this.clientId = opts.clientId
  }

  get clientId(): string | undefined {
    return this.id
  }

  /** Set after onboarding; it is the `keyid` of every later request and part of every path. */
  set clientId(value: string | undefined) {
    if (value !== undefined && !isUrlSafeId(value)) throw new TypeError(`clientId ${JSON.stringify(value.slice(0, 80))} is not URL-safe`)
    this.id = value
  }

  private requireClientId(): string {
    if (this.id === undefined) throw new Error('the device is not onboarded yet: no clientId')
    return this.id
  }

  private clientPath(suffix: string): string {
    return `${this.server}/api/v1/clients/${this.requireClientId()}${suffix}`
  }

  /** `POST /api/v1/onboarding`, signed with the key of `certPem` (keyid = its SHA-256 fingerprint). */
  onboard(certPem: string): Promise<HttpResult> {
    const parsed = parseCertificate(certPem)
    if (!parsed.ok) throw new TypeError(`the device certificate cannot be read: ${parsed.reason}`)
    return this.send({
      method: 'POST',
      url: `${this.server}/api/v1/onboarding`,
      keyId: createHash('sha256').update(parsed.der).digest('hex'),
      json: {apiVersion: ONBOARDING_API_VERSION, kind: ONBOARDING_KIND, certificate: Buffer.from(parsed.der).toString('base64')},
      headers: {accept: 'application/json'},
      cap: this.maxBodyBytes,
      timeoutMs: this.timeoutMs,
    })
  }

  /** POST for the first report, PUT for later changes. */
  reportCapabilities(manifest: object, method: 'POST' | 'PUT'): Promise<HttpResult> {
    return this.send({method, url: this.clientPath('/capabilities'), keyId: this.requireClientId(), json: manifest, cap: this.maxBodyBytes, timeoutMs: this.timeoutMs})
  }

  /** The State Manifest; `etag` is sent back verbatim so an unchanged manifest costs a 304. */
  getManifest(etag: string | null): Promise<HttpResult> {
    const headers: Record<string, string> = {accept: MANIFEST_MEDIA_TYPE}
    if (etag) headers['if-none-match'] = etag
    return this.send({method: 'GET', url: this.clientPath('/deployments'), keyId: this.requireClientId(), headers, cap: this.maxBodyBytes, timeoutMs: this.timeoutMs})
  }

  /** A deployment YAML or the bundle, by the relative `url` the manifest gives. Throws RefusedUrlError for anything else. */
  getArtifact(url: string, etag?: string): Promise<HttpResult> {
    const clientId = this.requireClientId()
    const absolute = resolveManifestUrl(this.server, clientId, url)
    const headers: Record<string, string> = {}
    if (etag) headers['if-none-match'] = etag
    const isBundle = url.startsWith(`/api/v1/clients/${clientId}/bundles/`)
    return this.send({
      method: 'GET', url: absolute, keyId: clientId, headers,
      cap: isBundle ? this.maxBundleBytes : this.maxBodyBytes,
      timeoutMs: this.artifactTimeoutMs,
    })
  }

  postStatus(deploymentId: string, report: object): Promise<HttpResult> {
    return this.send({
      method: 'POST',
      url: this.clientPath(`/deployments/${encodeURIComponent(deploymentId)}/status`),
      keyId: this.requireClientId(),
      json: report,
      cap: this.maxBodyBytes,
      timeoutMs: this.timeoutMs,
    })
  }

  private async send(req: SendOptions): Promise<HttpResult> {
    // Serialized once: these exact bytes are digested, signed and sent.
    const body = req.json === undefined ? undefined : new TextEncoder().encode(JSON.stringify(req.json))
    const headers: Record<string, string> = {...req.headers}
    if (body) headers['content-type'] = 'application/json'
    if (this.userAgent) headers['user-agent'] = this.userAgent
    const url = new URL(req.url).href
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sendOnce(req, url, headers, body)
      } catch (err) {
        if (!retriesAtOnce(req.method, err, attempt)) throw err
      }
    }
  }

  private async sendOnce(req: SendOptions, url: string, unsigned: Record<string, string>, body: Uint8Array | undefined): Promise<HttpResult> {
    // Signed per attempt: a repeated request carries its own creation time.
    const signature = await signRequest(
      {method: req.method, url, headers: unsigned, ...(body ? {body} : {})},
      {privateKey: this.privateKey, keyId: req.keyId, alg: this.alg},
    )
    const headers = {...unsigned, ...signature}

    const timeout = AbortSignal.timeout(req.timeoutMs)
    const signal = this.signal ? AbortSignal.any([timeout, this.signal]) : timeout
    let response: Response
    try {
      response = await this.fetchImpl(url, {
        method: req.method,
        headers,
        ...(body ? {body} : {}),
        signal,
        // A redirect would be followed to a URL that is not the one signed, possibly elsewhere.
        redirect: 'manual',
        // Adds the WFM CA as the trust anchor; verification and host name checks stay on.
        tls: {ca: this.caPem},
      } as RequestInit)
    } catch (err) {
      throw transportErrorFrom(err, url, req.timeoutMs)
    }
    const bytes = await readBodyCapped(response, req.cap, url, req.timeoutMs)
    return {status: response.status, headers: response.headers, body: bytes, retryAfter: response.headers.get('retry-after')}
  }
}

/**
 * Whether a request that failed is sent again at once, before the caller's back-off: once, and
 * only when the connection was closed before any answer and the method is idempotent (RFC 9110
 * §9.2.2). A server closes keep-alive connections when it likes (idle timeout, a deadline for a
 * slow first request), and one it closes just as the request leaves is indistinguishable from
 * a reset by the network; the request may or may not have been processed. Sending a GET or PUT
 * twice leaves the server as sending it once did, so the device need not wait out its back-off
 * for what is almost always a fresh connection away. A POST (onboarding, status, the first
 * capabilities report) is never repeated here: the agent's back-off and outbox retry it later,
 * as it would after any other failure.
 */
export function retriesAtOnce(method: string, err: unknown, attempt: number): boolean {
  return attempt === 1 && (method === 'GET' || method === 'PUT') && err instanceof TransportError && err.kind === 'reset'
}
