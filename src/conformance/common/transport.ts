import {wireResponse, type WireRequest, type WireResponse} from './exchange.ts'

/** How the runner reaches the system under test. */
export interface TlsOptions {
  /** PEM of the CA to trust (verification stays on). */
  ca?: string
  /** Skip certificate verification: only for the runner's own requests, and reported loudly. */
  insecure?: boolean
}

export type Send = (req: WireRequest) => Promise<WireResponse>

/** Thrown when no HTTP answer came back at all (refused, TLS, timeout). */
export class TransportError extends Error {
  readonly code: string
  constructor(message: string, code: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'TransportError'
    this.code = code
  }
}

/** fetch with the run's TLS settings; never follows redirects (a redirect is an answer to judge). */
export function httpSender(tls: TlsOptions, timeoutMs = 30_000): Send {
  return async (req) => {
    const tlsOption = tls.insecure ? {rejectUnauthorized: false} : tls.ca ? {ca: tls.ca} : undefined
    let response: Response
    try {
      response = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        ...(req.body !== undefined ? {body: req.body} : {}),
        redirect: 'manual',
        // Compression would change the bytes whose digests the suites check.
        decompress: false,
        signal: AbortSignal.timeout(timeoutMs),
        ...(tlsOption ? {tls: tlsOption} : {}),
      } as RequestInit)
    } catch (err) {
      const e = err as {code?: string, name?: string, message?: string}
      const code = e.code ?? e.name ?? 'unreachable'
      throw new TransportError(`${req.method} ${req.url}: ${e.message ?? String(err)}`, code, {cause: err})
    }
    const bytes = new Uint8Array(await response.arrayBuffer())
    const headers: Record<string, string> = {}
    response.headers.forEach((v, k) => { headers[k] = v })
    return wireResponse(response.status, headers, bytes)
  }
}
