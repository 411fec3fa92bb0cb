import {createPublicKey, type KeyObject} from 'node:crypto'
import {checkContentDigest, verifyRequest} from '../../signing/index.ts'
import type {ClientCredential} from '../store/store.ts'
import type {DeviceApiContext} from './context.ts'
import {problemResponse, targetUri} from './http.ts'
import {seenThrottleFor} from '../fleet-status/seen-throttle.ts'

export type AuthResult = {ok: true, client: ClientCredential} | {ok: false, response: Response}

/** The public key of a stored certificate, parsed once per process. */
export function clientKey(ctx: DeviceApiContext, client: {fingerprint: string, certificatePem: string}): KeyObject {
  let key = ctx.keyCache.get(client.fingerprint)
  if (!key) {
    key = createPublicKey(client.certificatePem)
    ctx.keyCache.set(client.fingerprint, key)
  }
  return key
}

const hasSignature = (h: Headers) => h.has('signature') && h.has('signature-input')

/**
 * Check the body's Content-Digest and the RFC 9421 signature against `publicKey`.
 * Returns the error response, or null when both hold. Order: missing signature (401),
 * bad digest (400), bad signature (401).
 */
export async function checkSignedRequest(ctx: DeviceApiContext, request: Request, body: Uint8Array, publicKey: KeyObject): Promise<Response | null> {
  if (!hasSignature(request.headers)) {
    ctx.metrics?.signatureFailures.inc({reason: 'missing'})
    return problemResponse('signature-verification-failed', 'The request carries no RFC 9421 Signature and Signature-Input headers; sign it with the key of the onboarded certificate.')
  }
  if (body.byteLength > 0) {
    const digest = checkContentDigest(request.headers.get('content-digest'), body)
    if (digest !== 'ok') {
      ctx.metrics?.signatureFailures.inc({reason: 'content-digest'})
      return problemResponse('invalid-digest-header', `Missing or invalid content-digest header (${digest}): send Content-Digest: sha-256=:<base64 of SHA-256 of the body>:`)
    }
  }
  const result = await verifyRequest(
    {method: request.method, url: targetUri(request, ctx.config), headers: request.headers, body},
    {publicKey, now: Math.floor(ctx.now().getTime() / 1000), maxAgeSeconds: ctx.config.signatureMaxAgeSeconds, skewSeconds: ctx.config.signatureSkewSeconds},
  )
  if (!result.ok) {
    ctx.metrics?.signatureFailures.inc({reason: result.reason})
    return problemResponse('signature-verification-failed', `Signature verification failed: ${result.detail}`, {reason: result.reason})
  }
  return null
}

/**
 * Authenticate a request under `/clients/{clientId}`: unknown client (404), signature and
 * digest checks, then the trust decision (403 for pending, revoked or expired certificates).
 * The key always comes from the clientId in the path, never from `keyid`, so a device can only
 * ever act as itself.
 */
export async function authenticateClient(ctx: DeviceApiContext, request: Request, body: Uint8Array, clientId: string): Promise<AuthResult> {
  const client = ctx.store.getCredential(clientId)
  if (!client) {
    return {ok: false, response: problemResponse('invalid-client', `Client not found: no device is onboarded as ${clientId}.`)}
  }
  const failure = await checkSignedRequest(ctx, request, body, clientKey(ctx, client))
  if (failure) return {ok: false, response: failure}
  if (client.enrollment !== 'active') {
    const detail = client.enrollment === 'pending'
      ? 'Client certificate is not trusted yet: enrollment is pending approval by an operator.'
      : 'Client certificate has been revoked.'
    return {ok: false, response: problemResponse('certificate-not-trusted', detail, {enrollment: client.enrollment, retryable: client.enrollment === 'pending'})}
  }
  if (Date.parse(client.notAfter) < ctx.now().getTime()) {
    return {ok: false, response: problemResponse('certificate-not-trusted', 'Client certificate has expired; onboard again with a new certificate.')}
  }
  const now = ctx.now()
  ctx.lastSeen.set(client.clientId, now.toISOString())
  // Watchers learn that a device is alive without an event on every poll.
  if (seenThrottleFor(ctx).due(client.clientId, now.getTime())) ctx.events.emit({type: 'device.seen', clientId: client.clientId})
  return {ok: true, client}
}
