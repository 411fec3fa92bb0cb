/**
 * A small client of the OCI Distribution API: tags, catalog, manifests and blobs, monolithic
 * blob upload (POST then PUT), and the registry auth schemes in use: anonymous, basic, a static
 * bearer token, and the token dance (401 + `WWW-Authenticate: Bearer realm=…` → token from the
 * realm → retry). Every blob and every manifest fetched by digest is checked against its digest.
 */
import {sha256Digest, verifyDigest} from '../margo/digest.ts'
import {basicHeader, parseChallenge, type Challenge, type RegistryCredentials} from './auth.ts'
import {OciError} from './errors.ts'
import {DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST} from './media-types.ts'
import {isLoopbackHost} from './reference.ts'

export interface OciClientOptions {
  /** `https://host[:port]`, or `http://…` for a registry on this machine only. */
  url: string
  /** PEM of extra CAs to trust for HTTPS (added to, never replacing, certificate checks). */
  ca?: string
  credentials?: RegistryCredentials
  timeoutMs?: number
  userAgent?: string
  fetch?: typeof fetch
}

export interface FetchedManifest {
  bytes: Uint8Array
  mediaType: string
  digest: string
}

/** Largest manifest read (the distribution specification's own recommendation is 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024
const DEFAULT_TIMEOUT_MS = 30_000
const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ')

/** `https://host:port` for `host:port`; plain http only when asked for and only for loopback hosts. */
export function registryUrl(registry: string, plainHttp = false): string {
  return `${plainHttp ? 'http' : 'https'}://${registry}`
}

/** Checks a registry base URL: http(s), no credentials, no path; plain http only on loopback. */
export function checkRegistryUrl(url: string): URL {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new OciError('usage', `"${url}" is not a URL — write https://host[:port]`)
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new OciError('usage', `"${url}" must start with https:// (or http:// for a registry on this machine)`)
  if (u.username || u.password) throw new OciError('usage', 'the registry URL must not carry credentials — pass a username and password or a token instead')
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
    throw new OciError('usage', `plain http is only allowed for a registry on this machine (127.0.0.1, ::1, localhost), not ${u.host} — use https`)
  }
  return u
}

const encRepo = (repository: string) => repository.split('/').map(encodeURIComponent).join('/')
const REFERENCE = /^(?:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|sha256:[0-9a-f]{64})$/

/** Tags and digests go into the path as they are; anything else is refused rather than escaped. */
function encRef(reference: string): string {
  if (!REFERENCE.test(reference)) throw new OciError('usage', `"${reference}" is neither a tag nor a sha256 digest`)
  return reference
}

export class OciClient {
  readonly baseUrl: string
  private readonly origin: URL
  private readonly ca: string | undefined
  private readonly credentials: RegistryCredentials | undefined
  private readonly timeoutMs: number
  private readonly userAgent: string
  private readonly fetchImpl: typeof fetch
  /** Tokens from the token dance, by scope. */
  private readonly tokens = new Map<string, string>()
  /** Set once the registry asked for basic auth, so later requests send it up front. */
  private basic = false

  constructor(options: OciClientOptions) {
    this.origin = checkRegistryUrl(options.url)
    this.baseUrl = this.origin.origin
    this.ca = options.ca
    this.credentials = options.credentials
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.userAgent = options.userAgent ?? 'margo'
    this.fetchImpl = options.fetch ?? fetch
  }

  /** Every tag of a repository, following `Link: <…>; rel="next"` pages. */
  async listTags(repository: string): Promise<string[]> {
    return this.paged(`/v2/${encRepo(repository)}/tags/list?n=1000`, pullScope(repository), 'tags', `repository ${repository}`)
  }

  /** Repository names from `/v2/_catalog` (registries may refuse it; then list repositories explicitly). */
  async catalog(): Promise<string[]> {
    return this.paged('/v2/_catalog?n=1000', 'registry:catalog:*', 'repositories', 'the registry catalog')
  }

  /**
   * A manifest by tag or digest. Fetched by digest, the bytes must hash to it; by tag, to the
   * `Docker-Content-Digest` the registry announces, when it announces one.
   */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const path = `/v2/${encRepo(repository)}/manifests/${encRef(reference)}`
    const res = await this.request('GET', path, pullScope(repository), {headers: {accept: MANIFEST_ACCEPT}})
    await this.expect(res, [200], `manifest ${repository}:${reference}`)
    const bytes = await readLimited(res, MAX_MANIFEST_BYTES, `manifest ${repository}:${reference}`)
    const digest = sha256Digest(bytes)
    const announced = res.headers.get('docker-content-digest')
    const expected = reference.startsWith('sha256:') ? reference : announced?.startsWith('sha256:') ? announced : undefined
    if (expected !== undefined && expected !== digest) {
      throw new OciError('integrity', `manifest ${repository}:${reference} does not match its digest ${expected} (got ${digest})`)
    }
    return {bytes, digest, mediaType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim()}
  }

  async putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const path = `/v2/${encRepo(repository)}/manifests/${encRef(reference)}`
    const res = await this.request('PUT', path, pushScope(repository), {headers: {'content-type': mediaType}, body: bytes})
    await this.expect(res, [201, 200], `manifest ${repository}:${reference}`)
    await res.body?.cancel()
    return sha256Digest(bytes)
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${encRepo(repository)}/blobs/${digest}`, pullScope(repository))
    await res.body?.cancel()
    if (res.status === 404) return false
    await this.expect(res, [200], `blob ${digest}`)
    return true
  }

  /** Uploads one blob (monolithic: POST for an upload URL, PUT of the whole content), unless it is there already. */
  async pushBlob(repository: string, blob: {digest: string, bytes: Uint8Array}): Promise<'exists' | 'uploaded'> {
    if (!verifyDigest(blob.bytes, blob.digest)) throw new OciError('integrity', `blob content does not match ${blob.digest}`)
    if (await this.hasBlob(repository, blob.digest)) return 'exists'
    const start = await this.request('POST', `/v2/${encRepo(repository)}/blobs/uploads/`, pushScope(repository), {headers: {'content-length': '0'}})
    await this.expect(start, [202], `upload to ${repository}`)
    await start.body?.cancel()
    const location = start.headers.get('location')
    if (!location) throw new OciError('protocol', `${this.baseUrl} started an upload without a Location header`)
    const target = new URL(location, this.baseUrl)
    if (target.origin !== this.baseUrl) checkRegistryUrl(target.origin)
    target.searchParams.set('digest', blob.digest)
    const put = await this.request('PUT', target.toString(), pushScope(repository), {
      headers: {'content-type': 'application/octet-stream', 'content-length': String(blob.bytes.length)},
      body: blob.bytes,
    })
    await this.expect(put, [201, 204], `blob ${blob.digest}`)
    await put.body?.cancel()
    return 'uploaded'
  }

  /** A blob, refused unless it is exactly `size` bytes (when given, at most `maxBytes`) hashing to `digest`. */
  async getBlob(repository: string, descriptor: {digest: string, size?: number}, maxBytes = 64 * 1024 * 1024): Promise<Uint8Array> {
    const what = `blob ${descriptor.digest} of ${repository}`
    if (descriptor.size !== undefined && descriptor.size > maxBytes) {
      throw new OciError('integrity', `${what} is ${descriptor.size} bytes, more than the ${maxBytes} allowed`)
    }
    const res = await this.request('GET', `/v2/${encRepo(repository)}/blobs/${descriptor.digest}`, pullScope(repository))
    await this.expect(res, [200], what)
    const bytes = await readLimited(res, descriptor.size ?? maxBytes, what)
    if (descriptor.size !== undefined && bytes.length !== descriptor.size) {
      throw new OciError('integrity', `${what} has ${bytes.length} bytes, the manifest says ${descriptor.size}`)
    }
    if (!verifyDigest(bytes, descriptor.digest)) throw new OciError('integrity', `${what} does not match its digest`)
    return bytes
  }

  // ------------------------------------------------------------------------------ plumbing

  private async paged(first: string, scope: string, key: string, what: string): Promise<string[]> {
    const out: string[] = []
    let next: string | undefined = first
    for (let page = 0; next !== undefined; page++) {
      if (page > 1000) throw new OciError('protocol', `${what}: more than 1000 pages`)
      const res = await this.request('GET', next, scope)
      await this.expect(res, [200], what)
      const body = await readLimited(res, MAX_MANIFEST_BYTES, what)
      let doc: unknown
      try { doc = JSON.parse(new TextDecoder().decode(body)) } catch { throw new OciError('protocol', `${what}: the answer is not JSON`) }
      const list = (doc as Record<string, unknown> | null)?.[key]
      if (list !== null && list !== undefined && !(Array.isArray(list) && list.every(t => typeof t === 'string'))) {
        throw new OciError('protocol', `${what}: "${key}" is not a list of strings`)
      }
      out.push(...((list as string[] | null | undefined) ?? []))
      next = nextLink(res.headers.get('link'), this.baseUrl)
    }
    return out
  }

  private async expect(res: Response, ok: number[], what: string): Promise<void> {
    if (ok.includes(res.status)) return
    const detail = await errorText(res)
    if (res.status === 401) {
      const message = this.credentials
        ? `${this.baseUrl} refused the credentials for ${what} (401${detail}) — check the username and password or token`
        : `${this.baseUrl} requires authentication for ${what} (401${detail}) — give a username and password or a token`
      throw new OciError('auth', message, {status: 401})
    }
    if (res.status === 403) {
      throw new OciError('auth', `${this.baseUrl} denied access to ${what} (403${detail}) — the account may not use this repository`, {status: 403})
    }
    if (res.status === 404) throw new OciError('not_found', `${what} not found on ${this.baseUrl}${detail}`, {status: 404})
    throw new OciError('protocol', `${this.baseUrl} answered ${res.status} for ${what}${detail}`, {status: res.status})
  }

  private async request(method: string, pathOrUrl: string, scope: string, init: {headers?: Record<string, string>, body?: Uint8Array} = {}): Promise<Response> {
    const url = pathOrUrl.startsWith('/') ? this.baseUrl + pathOrUrl : pathOrUrl
    const send = (authorization: string | undefined) => this.fetchOnce(url, {
      method,
      headers: {'user-agent': this.userAgent, ...init.headers, ...(authorization ? {authorization} : {})},
      ...(init.body !== undefined ? {body: init.body} : {}),
    })
    let res = await send(this.authorizationFor(scope))
    if (res.status !== 401) return res
    const challenge = parseChallenge(res.headers.get('www-authenticate'))
    const authorization = await this.answer(challenge, scope)
    if (authorization === undefined) return res
    await res.body?.cancel()
    res = await send(authorization)
    return res
  }

  private authorizationFor(scope: string): string | undefined {
    const c = this.credentials
    const token = this.tokens.get(scope)
    if (token) return `Bearer ${token}`
    if (c?.kind === 'bearer') return `Bearer ${c.token}`
    if (c?.kind === 'basic' && this.basic) return basicHeader(c.username, c.password)
    return undefined
  }

  /** The Authorization for a retry after a 401, or undefined when there is nothing new to try. */
  private async answer(challenge: Challenge | undefined, scope: string): Promise<string | undefined> {
    const c = this.credentials
    if (challenge?.scheme === 'basic') {
      if (c?.kind !== 'basic' || this.basic) return undefined
      this.basic = true
      return basicHeader(c.username, c.password)
    }
    if (challenge?.scheme === 'bearer' && challenge.params.realm) {
      // A static token was already sent and refused; a token server cannot help with it.
      if (c?.kind === 'bearer' || this.tokens.has(scope)) return undefined
      const token = await this.fetchToken(challenge, scope)
      this.tokens.set(scope, token)
      return `Bearer ${token}`
    }
    return undefined
  }

  private async fetchToken(challenge: Challenge, scope: string): Promise<string> {
    const realm = checkRegistryUrl(new URL(challenge.params.realm!).origin)
    const url = new URL(challenge.params.realm!)
    if (url.origin !== realm.origin) throw new OciError('usage', `odd token realm ${challenge.params.realm}`)
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service)
    url.searchParams.set('scope', challenge.params.scope ?? scope)
    const c = this.credentials
    const res = await this.fetchOnce(url.toString(), {
      method: 'GET',
      headers: {'user-agent': this.userAgent, ...(c?.kind === 'basic' ? {authorization: basicHeader(c.username, c.password)} : {})},
    })
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel()
      throw new OciError('auth', `the token service ${url.origin} refused ${c ? 'the credentials' : 'anonymous access'} (${res.status}) — check the username and password`, {status: res.status})
    }
    if (res.status !== 200) throw new OciError('protocol', `the token service ${url.origin} answered ${res.status}${await errorText(res)}`)
    const body = await readLimited(res, 1024 * 1024, 'token')
    let doc: Record<string, unknown> | null = null
    try { doc = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown> } catch { /* checked below */ }
    const token = typeof doc?.token === 'string' && doc.token ? doc.token : typeof doc?.access_token === 'string' && doc.access_token ? doc.access_token : undefined
    if (!token) throw new OciError('protocol', `the token service ${url.origin} answered without a token`)
    return token
  }

  private async fetchOnce(url: string, init: {method: string, headers: Record<string, string>, body?: Uint8Array}): Promise<Response> {
    try {
      return await this.fetchImpl(url, {
        ...init,
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(this.ca ? {tls: {ca: this.ca}} : {}),
      } as RequestInit)
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      throw new OciError('unreachable', `cannot reach ${new URL(url).origin}: ${message} — check the registry address${url.startsWith('https:') ? ', --ca-file' : ''} and that it is running`, {cause: err})
    }
  }
}

export const pullScope = (repository: string) => `repository:${repository}:pull`
export const pushScope = (repository: string) => `repository:${repository}:pull,push`

/** `Link: </v2/_catalog?last=x&n=100>; rel="next"`, resolved against the registry. */
export function nextLink(header: string | null, base: string): string | undefined {
  if (!header) return undefined
  const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(header)
  if (!m) return undefined
  const u = new URL(m[1]!, base)
  return u.origin === base ? u.pathname + u.search : undefined
}

async function readLimited(res: Response, limit: number, what: string): Promise<Uint8Array> {
  const length = Number(res.headers.get('content-length') ?? NaN)
  if (Number.isFinite(length) && length > limit) {
    await res.body?.cancel()
    throw new OciError('integrity', `${what} is ${length} bytes, more than the ${limit} expected`)
  }
  if (!res.body) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length
    if (total > limit) throw new OciError('integrity', `${what} is more than the ${limit} bytes expected`)
    chunks.push(chunk)
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const c of chunks) { out.set(c, offset); offset += c.length }
  return out
}

/** The first error of a distribution-spec error body, for messages (never the whole body). */
async function errorText(res: Response): Promise<string> {
  try {
    const text = (await res.text()).slice(0, 2000)
    const doc = JSON.parse(text) as {errors?: {code?: string, message?: string}[]}
    const e = doc.errors?.[0]
    return e ? `: ${[e.code, e.message].filter(Boolean).join(' ')}` : ''
  } catch {
    return ''
  }
}
