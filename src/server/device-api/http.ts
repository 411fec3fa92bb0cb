import {problem, type ProblemSlug} from '../../margo/problems.ts'
import {PROBLEM_MEDIA_TYPE} from '../../margo/media-types.ts'
import type {DeviceApiConfig} from './context.ts'

/** An RFC 9457 problem response with a Margo problem type. */
export function problemResponse(slug: ProblemSlug, detail: string, extensions: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  const p = problem(slug, detail, extensions)
  return new Response(JSON.stringify(p.body), {status: p.status, headers: {'content-type': PROBLEM_MEDIA_TYPE, ...headers}})
}

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the request body exceeds ${limit} bytes`)
  }
}

/** The device closed the connection before its request body was complete: nothing failed on our side. */
export class ClientAborted extends Error {
  constructor(readonly method: string, readonly path: string, readonly received: number) {
    super(`the client closed the connection after ${received} bytes of the request body`)
  }
}

/** Read the raw body, refusing more than `limit` bytes without buffering past it. */
export async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > limit) throw new BodyTooLarge(limit)
  if (!request.body) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength
      if (total > limit) throw new BodyTooLarge(limit)
      chunks.push(chunk)
    }
  } catch (err) {
    // Bun aborts the request's signal when the connection closes mid-body.
    if (request.signal.aborted) throw new ClientAborted(request.method, new URL(request.url).pathname, total)
    throw err
  }
  return Buffer.concat(chunks)
}

/**
 * The `@target-uri` a device signed. Behind a TLS-terminating proxy the URL Bun sees is the
 * internal hop, so with an external URL configured the public URL is rebuilt from it.
 */
export function targetUri(request: Request, config: DeviceApiConfig): string {
  const url = new URL(request.url)
  if (config.externalUrl) {
    const ext = config.externalUrl.replace(/\/+$/, '')
    return ext + url.pathname.slice(config.basePath.length) + url.search
  }
  const host = request.headers.get('host') ?? url.host
  return `${url.protocol}//${host}${url.pathname}${url.search}`
}

/** Parse JSON without ever throwing: undefined means "not JSON". */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(bytes))
  } catch {
    return undefined
  }
}

/** RFC 9110 If-None-Match: `*` matches any current representation; otherwise a list of entity tags (weak comparison). */
export function ifNoneMatchHits(header: string | null, etag: string): boolean {
  if (header === null) return false
  const value = header.trim()
  if (value === '*') return true
  const bare = (t: string) => t.trim().replace(/^W\//, '')
  return value.split(',').some(t => bare(t) === bare(etag))
}
