import type {Connection} from './connection.ts'
import {
  AuthError,
  type ErrorDetail,
  type MargoError,
  NotFoundError,
  OperationError,
  UnreachableError,
  ValidationError,
} from '../util/errors.ts'

/** What a request was about, so an error can name the thing and the next step. */
export interface RequestContext {
  method: string
  /** Path below the operator base URL, e.g. `/devices/3f0c…`. */
  path: string
  clientId?: string
  appId?: string
  version?: string
  deploymentId?: string
  /** Next step to suggest when the server rejects the input (400/409/422). */
  inputHint?: string
}

interface ParsedBody {
  code?: string
  message?: string
  details: ErrorDetail[]
}

/** Reads the operator error shape `{error: {code, message, details}}`; anything else yields nothing. */
export function parseErrorBody(body: unknown): ParsedBody {
  const error = (body as {error?: unknown} | null)?.error
  if (!error || typeof error !== 'object') return {details: []}
  const e = error as Record<string, unknown>
  const details = Array.isArray(e.details)
    ? e.details
        .filter((d): d is Record<string, unknown> => !!d && typeof d === 'object')
        .map(d => ({path: String(d.path ?? ''), message: String(d.message ?? '')}))
    : []
  return {
    ...(typeof e.code === 'string' ? {code: e.code} : {}),
    ...(typeof e.message === 'string' && e.message ? {message: e.message} : {}),
    details,
  }
}

/** Adds a next step unless the server's message already carries one. */
function withHint(message: string, hint: string | undefined): string {
  if (!hint || message.includes(' — ')) return message
  return `${message} — ${hint}`
}

function notFoundMessage(code: string | undefined, ctx: RequestContext, serverMessage: string | undefined): string | undefined {
  if (code === 'device_not_found' && ctx.clientId) return `device ${ctx.clientId} not found — run: margo device list`
  if (code === 'app_not_found' && ctx.appId) {
    return ctx.version
      ? `app ${ctx.appId} version ${ctx.version} not found — run: margo app show ${ctx.appId}`
      : `app ${ctx.appId} not found — run: margo app list`
  }
  if (code === 'deployment_not_found' && ctx.deploymentId) return `deployment ${ctx.deploymentId} not found — run: margo status`
  return serverMessage
}

/** Maps a non-2xx answer of the operator API to the error the CLI reports. */
export function errorFromResponse(status: number, body: unknown, ctx: RequestContext, conn: Connection): MargoError {
  const {code, message, details} = parseErrorBody(body)
  const where = `${ctx.method} ${conn.baseUrl}${ctx.path}`
  const opts = {code: code ?? `http_${status}`}

  if (status === 401) {
    // An expired or revoked token: the server's message names the token and what to do.
    if ((code === 'token_expired' || code === 'token_revoked') && message) return new AuthError(message, opts)
    return new AuthError(
      `operator token rejected by ${conn.baseUrl} (token from ${conn.origin.token}) — check the token, or run: margo login --server ${conn.baseUrl} --token TOKEN`,
      opts,
    )
  }
  if (status === 403) {
    return new AuthError(withHint(message ?? `${where} was refused (403)`, 'check that this token may perform the action'), opts)
  }
  if (status === 404) {
    const text = notFoundMessage(code, ctx, message)
    return new NotFoundError(
      text ?? `${where} not found (404) — check that ${conn.baseUrl} is a margo operator API (server from ${conn.origin.server})`,
      opts,
    )
  }
  if (status === 400 || status === 422) {
    const text = message ?? (status === 400 ? `the server rejected ${where} as malformed` : `the server rejected the input of ${where}`)
    return new ValidationError(withHint(text, ctx.inputHint), details, opts)
  }
  if (status === 409) {
    return new OperationError(withHint(message ?? `${where} conflicts with the current state`, ctx.inputHint), opts)
  }
  if (status === 413) {
    return new OperationError(
      withHint(message ?? `the request body is larger than the server accepts`, 'shrink the package or raise the server limit'),
      opts,
    )
  }
  if (status >= 500) {
    return new OperationError(`server error ${status} on ${where}${message ? `: ${message}` : ''} — check the server log`, opts)
  }
  return new OperationError(withHint(message ?? `unexpected answer ${status} on ${where}`, 'check the server log'), opts)
}

const TLS_CODE = /^(EPROTO|ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|ERR_SSL_|HOSTNAME_MISMATCH|TLS)/

/** How a TLS listener's refusal of a plain-HTTP request surfaces in fetch. */
const PLAIN_TO_TLS = /^(ECONNRESET|EPIPE|ECONNABORTED|ConnectionClosed)$|socket connection was closed/

/** Maps a failure to get any answer at all (socket, DNS, TLS, timeout) to UnreachableError. */
export function errorFromNetwork(err: unknown, conn: Connection, timeoutMs: number): UnreachableError {
  const e = err as {code?: string; name?: string; message?: string} | undefined
  const code = e?.code ?? ''
  const from = `server from ${conn.origin.server}`
  const url = conn.baseUrl
  let message: string
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    message = `${url} did not answer within ${Math.round(timeoutMs / 1000)}s — check that the server is up and the network path is open (${from})`
  } else if (code === 'ECONNREFUSED' || code === 'ConnectionRefused') {
    message = `cannot reach ${url}: connection refused — is margo serve running there? check the host and port (${from})`
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'DNSException') {
    message = `cannot reach ${url}: host ${new URL(url).hostname} not found — check the server URL (${from})`
  } else if (url.startsWith('http://') && PLAIN_TO_TLS.test(code || (e?.message ?? ''))) {
    // A TLS listener drops a plain-HTTP request without an answer; margo serve only speaks HTTPS.
    const https = `https://${new URL(url).host}`
    message = `${url} closed the connection: margo serve speaks HTTPS, not plain HTTP — use ${https} (server from ${conn.origin.server})`
  } else if (TLS_CODE.test(code) || /certificate|tls|ssl/i.test(e?.message ?? '')) {
    const ca = conn.origin.ca ? `the CA in ${conn.origin.ca} does not match` : 'no CA file is configured'
    message = `TLS with ${url} failed (${code || e?.message}) — ${ca}; pass the server's CA with --ca-file (tls/ca.pem in its data dir) and make sure the URL names a host in its certificate`
  } else {
    message = `cannot reach ${url}: ${code || e?.message || String(err)} — check the server URL and that the server is running (${from})`
  }
  return new UnreachableError(message, {code: code || 'unreachable', cause: err})
}
