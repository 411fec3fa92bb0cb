import {createPublicKey, randomUUID} from 'node:crypto'
import {SYSTEM_ACTOR, appendAudit} from '../audit/service.ts'
import {parseOnboardingRequest} from '../../margo/onboarding.ts'
import {certificatePolicyProblems, certificateToBase64Der, parseCertificate} from '../../pki/index.ts'
import {describeKey} from '../../signing/index.ts'
import {publishManifest} from '../desired-state/publish.ts'
import type {Enrollment} from '../store/store.ts'
import {checkSignedRequest} from './auth.ts'
import type {DeviceApiContext} from './context.ts'
import {parseJson, problemResponse} from './http.ts'

const CLIENT_REJECTED = {error: 'Client rejected'}
const INVALID_CERTIFICATE = {error: 'Invalid certificate'}

/** E1: the root CA devices add to their trust store (unauthenticated by design). */
export function rootCertificate(ctx: DeviceApiContext): Response {
  return Response.json({certificate: certificateToBase64Der(ctx.caCertificatePem)})
}

/**
 * E2: onboarding. Onboarding the same certificate again is idempotent (same clientId), so a
 * device that lost the answer can simply retry.
 */
export async function onboard(ctx: DeviceApiContext, request: Request, body: Uint8Array): Promise<Response> {
  const json = parseJson(body)
  if (json === undefined) {
    return problemResponse('invalid-request', 'The body is not a JSON OnboardingRequest.', INVALID_CERTIFICATE)
  }
  // The deny-list is consulted before parsing so that refused values are refused whatever their shape.
  const rawCertificate = typeof json === 'object' && json !== null ? (json as {certificate?: unknown}).certificate : undefined
  if (typeof rawCertificate === 'string' && ctx.store.isDenied(rawCertificate.trim())) {
    ctx.log.warn('onboarding.denied', {reason: 'deny-list'})
    return problemResponse('certificate-not-trusted', 'Client rejected: this certificate is on the deny-list.', CLIENT_REJECTED)
  }
  const parsed = parseOnboardingRequest(json)
  if (!parsed.ok) {
    // The `error` member names the offending fields, so a device can tell what to fix.
    const fields = parsed.errors.map(e => `${e.field}: ${e.message}`).join('; ')
    const onlyCertificate = parsed.errors.every(e => e.field === 'certificate')
    return problemResponse(onlyCertificate ? 'invalid-certificate-format' : 'invalid-request', `Invalid OnboardingRequest: ${fields}`,
      {error: onlyCertificate ? INVALID_CERTIFICATE.error : `Invalid request: ${fields}`, errors: parsed.errors})
  }
  const cert = parseCertificate(parsed.value.certificate)
  if (!cert.ok) {
    return problemResponse('invalid-certificate-format', `Invalid certificate: ${cert.reason}. Send the X.509 certificate as base64 DER or PEM.`, INVALID_CERTIFICATE)
  }
  if (ctx.store.isDenied(cert.fingerprint)) {
    ctx.log.warn('onboarding.denied', {fingerprint: cert.fingerprint, reason: 'deny-list'})
    return problemResponse('certificate-not-trusted', 'Client rejected: this certificate is on the deny-list.', CLIENT_REJECTED)
  }
  const policy = certificatePolicyProblems(cert.cert, ctx.now())
  if (policy.length > 0) {
    return problemResponse('certificate-not-trusted', `Client rejected: ${policy.join('; ')}.`, CLIENT_REJECTED)
  }
  const publicKey = createPublicKey(cert.pem)
  // The signature is optional here (there is no clientId yet); when present it must prove
  // possession of the submitted certificate's key.
  if (request.headers.has('signature') || request.headers.has('signature-input')) {
    const failure = await checkSignedRequest(ctx, request, body, publicKey)
    if (failure) return failure
  }

  const existing = ctx.store.getClientByFingerprint(cert.fingerprint)
  const revivable = existing?.tombstone && existing.reonboardAllowed === 1
  if (existing && !revivable) {
    if (existing.enrollment === 'revoked') {
      const why = existing.tombstone ? `this certificate's device was ${existing.tombstone}` : 'this certificate has been revoked'
      return problemResponse('certificate-not-trusted', `Client rejected: ${why}.`, CLIENT_REJECTED)
    }
    return Response.json({clientId: existing.clientId}, {status: 201})
  }

  const preregistration = ctx.store.getPreregistration(cert.fingerprint)
  const preregistered = preregistration !== null
  let enrollment: Enrollment
  if (ctx.config.enrollment === 'auto' || preregistered) enrollment = 'active'
  else if (ctx.config.enrollment === 'approve') enrollment = 'pending'
  else {
    ctx.log.warn('onboarding.rejected', {fingerprint: cert.fingerprint, reason: 'not on the allowlist'})
    return problemResponse('certificate-not-trusted', 'Client rejected: the certificate is not pre-registered (allowlist enrollment).', CLIENT_REJECTED)
  }

  if (existing) {
    // An operator allowed this tombstone back: it onboards under its old clientId, enrolled as a new device would be.
    ctx.store.transaction(() => {
      ctx.store.reviveClient(existing.clientId, enrollment)
      appendAudit(ctx.store, {actor: SYSTEM_ACTOR, action: 'device.reonboarded', target: `device:${existing.clientId}`, summary: {fingerprint: cert.fingerprint, enrollment, was: existing.tombstone}}, ctx.now())
    })
    ctx.log.info('device.reonboarded', {clientId: existing.clientId, enrollment})
    ctx.events.emit({type: 'device.onboarded', clientId: existing.clientId})
    return Response.json({clientId: existing.clientId}, {status: 201})
  }

  const clientId = randomUUID()
  const now = ctx.now().toISOString()
  ctx.store.transaction(() => {
    ctx.store.insertClient({
      clientId,
      fingerprint: cert.fingerprint,
      certificatePem: cert.pem,
      subject: cert.cert.subject.replace(/\n/g, ', '),
      keyType: describeKey(publicKey).keyType,
      notAfter: new Date(cert.cert.validTo).toISOString(),
      enrollment,
      onboardedAt: now,
    })
    // Labels a join token granted arrive with the device, before any rollout looks at it.
    const labels = preregistration?.labels ?? {}
    if (Object.keys(labels).length > 0) ctx.store.setLabels(clientId, labels)
    publishManifest(ctx.store, clientId, now)
    appendAudit(ctx.store, {actor: SYSTEM_ACTOR, action: 'device.onboarded', target: `device:${clientId}`, summary: {
      fingerprint: cert.fingerprint, enrollment, preregistered, ...(preregistration?.joinToken ? {admittedBy: `join-token:${preregistration.joinToken}`, labels} : {}),
    }}, ctx.now())
  })
  // One line per device that waits for a person, saying what that person runs.
  if (enrollment === 'pending') ctx.log.warn('device.pending', {clientId, fingerprint: cert.fingerprint, approve: `margo device approve ${clientId}`})
  else ctx.log.info('device.onboarded', {clientId, fingerprint: cert.fingerprint, enrollment, ...(preregistration?.joinToken ? {admittedBy: `join-token:${preregistration.joinToken}`} : {})})
  ctx.events.emit({type: 'device.onboarded', clientId})
  return Response.json({clientId}, {status: 201})
}
