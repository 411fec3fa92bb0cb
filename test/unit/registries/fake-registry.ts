/**
 * An in-memory OCI distribution registry on a loopback port, for the client cases a real
 * registry cannot show: a token service (401 + Bearer challenge), tampered blobs and manifests,
 * paginated tag lists. It records every request.
 */
import {createHash} from 'node:crypto'

export interface FakeRegistryOptions {
  /** Require a token from the fake token service, which accepts only these basic credentials. */
  tokenAuth?: {username: string, password: string}
  /** Tags per page of tags/list (Link header for the next one). */
  pageSize?: number
}

/** The scope a real registry names in its challenge: the repository, with push for writes. */
function scopeOf(method: string, path: string): string {
  const repo = /^\/v2\/(.+?)\/(?:tags|manifests|blobs)\//.exec(path)?.[1]
  if (!repo) return 'registry:catalog:*'
  return `repository:${repo}:${method === 'GET' || method === 'HEAD' ? 'pull' : 'pull,push'}`
}

const digestOf = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`

export function startFakeRegistry(options: FakeRegistryOptions = {}) {
  const blobs = new Map<string, Uint8Array>()
  const manifests = new Map<string, {bytes: Uint8Array, type: string}>()
  const tags = new Map<string, Set<string>>()
  const tamperedBlobs = new Set<string>()
  const requests: {method: string, path: string, authorization: string | null}[] = []
  const issued = new Set<string>()
  let uploads = 0

  const server: ReturnType<typeof Bun.serve> = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req): Promise<Response> {
      const url = new URL(req.url)
      const authorization = req.headers.get('authorization')
      requests.push({method: req.method, path: url.pathname + url.search, authorization})
      if (url.pathname === '/token') {
        const want = `Basic ${Buffer.from(`${options.tokenAuth!.username}:${options.tokenAuth!.password}`).toString('base64')}`
        if (authorization !== want) return new Response('{"errors":[{"code":"UNAUTHORIZED"}]}', {status: 401})
        const token = `tok-${issued.size}-${url.searchParams.get('scope')}`
        issued.add(token)
        return Response.json({token})
      }
      if (options.tokenAuth) {
        const m = /^Bearer (.+)$/.exec(authorization ?? '')
        if (!m || !issued.has(m[1]!)) {
          return new Response('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', {
            status: 401,
            headers: {'www-authenticate': `Bearer realm="${server.url.origin}/token",service="fake",scope="${scopeOf(req.method, url.pathname)}"`},
          })
        }
      }
      let m: RegExpExecArray | null
      if ((m = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname))) {
        const all = [...(tags.get(m[1]!) ?? [])].sort()
        const last = url.searchParams.get('last')
        const rest = last ? all.filter(t => t > last) : all
        const size = options.pageSize ?? 1000
        const page = rest.slice(0, size)
        const headers: Record<string, string> = {}
        if (rest.length > size) headers.link = `</v2/${m[1]}/tags/list?n=${size}&last=${page.at(-1)}>; rel="next"`
        return Response.json({name: m[1], tags: page}, {headers})
      }
      if ((m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname))) {
        const key = `${m[1]}@${m[2]}`
        if (req.method === 'PUT') {
          const bytes = new Uint8Array(await req.arrayBuffer())
          const d = digestOf(bytes)
          const type = req.headers.get('content-type') ?? ''
          manifests.set(`${m[1]}@${m[2]}`, {bytes, type})
          manifests.set(`${m[1]}@${d}`, {bytes, type})
          if (!m[2]!.startsWith('sha256:')) { const s = tags.get(m[1]!) ?? new Set(); s.add(m[2]!); tags.set(m[1]!, s) }
          return new Response(null, {status: 201, headers: {'docker-content-digest': d}})
        }
        const found = manifests.get(key)
        if (!found) return new Response('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', {status: 404})
        return new Response(found.bytes, {headers: {'content-type': found.type, 'docker-content-digest': digestOf(found.bytes)}})
      }
      if ((m = /^\/v2\/(.+)\/blobs\/uploads\/?$/.exec(url.pathname)) && req.method === 'POST') {
        return new Response(null, {status: 202, headers: {location: `/v2/${m[1]}/blobs/uploads/u${++uploads}`}})
      }
      if ((m = /^\/v2\/(.+)\/blobs\/uploads\/(.+)$/.exec(url.pathname)) && req.method === 'PUT') {
        const bytes = new Uint8Array(await req.arrayBuffer())
        const d = url.searchParams.get('digest')!
        if (digestOf(bytes) !== d) return new Response('{"errors":[{"code":"DIGEST_INVALID"}]}', {status: 400})
        blobs.set(d, bytes)
        return new Response(null, {status: 201})
      }
      if ((m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]+)$/.exec(url.pathname))) {
        const b = blobs.get(m[2]!)
        if (!b) return new Response(null, {status: 404})
        if (req.method === 'HEAD') return new Response(null, {status: 200, headers: {'content-length': String(b.length)}})
        if (tamperedBlobs.has(m[2]!)) { const t = new Uint8Array(b); t[0] = (t[0]! + 1) % 256; return new Response(t) }
        return new Response(b)
      }
      return new Response('{"errors":[{"code":"NOT_FOUND"}]}', {status: 404})
    },
  })
  return {
    url: server.url.origin,
    requests,
    blobs,
    tamper(digest: string) { tamperedBlobs.add(digest) },
    /** Serves other bytes under an existing tag while announcing the digest of the original. */
    replaceManifest(repo: string, tag: string, bytes: Uint8Array) {
      const old = manifests.get(`${repo}@${tag}`)!
      manifests.set(`${repo}@${tag}`, {bytes, type: old.type})
    },
    tagCount: (repo: string) => tags.get(repo)?.size ?? 0,
    stop() { server.stop(true) },
  }
}
