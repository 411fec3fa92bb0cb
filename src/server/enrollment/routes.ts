import {Elysia} from 'elysia'
import {labelMapProblems, mergeLabels, sortLabels} from '../../operator-contract/labels.ts'
import {parseCertificate} from '../../pki/index.ts'
import {checkContentDigest, verifyRequest} from '../../signing/index.ts'
import {clientKey} from '../device-api/auth.ts'
import type {DeviceApiContext} from '../device-api/context.ts'
import {auditRequest, OPERATOR_PREFIX, operatorHandler, outsideScope, principalOf, readJson, type OperatorApiContext} from '../operator-api/context.ts'
import {labelsInScope} from '../access/scope.ts'
import {badRequest, invalid, OperatorError} from '../operator-api/errors.ts'
import {issueTicket, TICKET_MAX_CHARS, verifyTicket} from './ticket.ts'

/** Where a device redeems its ticket: beside the Margo device interface, never inside it. */
export const REDEEM_PATH = '/enroll/labels'
export const ENROLLMENT_TICKETS_PATH = '/enrollment-tickets'
const DEFAULT_TTL_SECONDS = 24 * 3600
const MAX_TTL_SECONDS = 30 * 24 * 3600
const REDEEM_MAX_BYTES = 16 * 1024

export const ENROLLMENT_OPENAPI_PATHS = {
  [ENROLLMENT_TICKETS_PATH]: {post: {summary: 'Issue an enrollment ticket: labels a device receives when it onboards with it (body {labels, ttlSeconds})',
    responses: {'201': {description: 'The ticket, its expiry, the device API URL and the CA fingerprint devices verify the server with'}}}},
}

const answer = (status: number, code: string, message: string) => Response.json({error: {code, message}}, {status})

/** The URL the device signed: the external origin when a proxy sits in front, else the request's own. */
function signedTarget(request: Request, externalUrl: string | undefined): string {
  const url = new URL(request.url)
  if (externalUrl) return new URL(externalUrl).origin + url.pathname + url.search
  return `${url.protocol}//${request.headers.get('host') ?? url.host}${url.pathname}${url.search}`
}

/**
 * Enrollment tickets. The operator asks for one (operator API, bearer token) and pastes it to
 * the device inside the enroll command; the agent presents it once it has a clientId, in a
 * request signed with its device key, so a ticket only ever labels the device that holds it.
 * Under approval enrollment the labels are stored on the pending device and act once it is
 * approved, like any label.
 */
export function enrollmentTicketRoutes(operator: OperatorApiContext) {
  const handle = operatorHandler(operator)
  return new Elysia({name: 'margo-enrollment-tickets', prefix: OPERATOR_PREFIX})
    .post(ENROLLMENT_TICKETS_PATH, ({request}) => handle(request, async () => {
      const config = operator.enrollmentTickets
      if (!config) throw new OperatorError(503, 'not_configured', 'this server issues no enrollment tickets')
      const body = await readJson(request, 64 * 1024)
      const labels = body.labels ?? {}
      if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw badRequest('labels must be an object {"key": "value"}')
      const problems = labelMapProblems(labels as Record<string, unknown>, {allowNull: false})
      if (problems.length > 0) throw invalid('invalid_labels', `${problems.length} label(s) are invalid — keys are [prefix/]name, values at most 63 characters of letters, digits, '-', '_' and '.'`, problems)
      const ttl = body.ttlSeconds ?? DEFAULT_TTL_SECONDS
      if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 60 || ttl > MAX_TTL_SECONDS) throw badRequest(`ttlSeconds must be a whole number of seconds from 60 to ${MAX_TTL_SECONDS}`)
      // A scoped token may only send devices into its own part of the fleet.
      const scope = principalOf(request)?.scope ?? null
      if (!labelsInScope(scope, labels as Record<string, string>)) throw outsideScope({message: "the ticket's labels would put devices outside this token's scope", details: [`labels ${JSON.stringify(labels)}`]})
      const expiresAt = Math.floor(operator.now().getTime() / 1000) + ttl
      const ca = parseCertificate(config.caCertificatePem)
      if (!ca.ok) throw new Error(`the server's CA cannot be read: ${ca.reason}`)
      const ticket = issueTicket(config.key, {labels: labels as Record<string, string>, expiresAt})
      operator.log.info('enrollment.ticket_issued', {labels: Object.keys(labels), expiresAt: new Date(expiresAt * 1000).toISOString()})
      // The ticket is a secret: the audit entry names its labels and expiry, never the ticket.
      auditRequest(operator, request, {target: 'enrollment-ticket', summary: {labels, expiresAt: new Date(expiresAt * 1000).toISOString()}})
      return {
        ticket,
        labels: sortLabels(labels as Record<string, string>),
        expiresAt: new Date(expiresAt * 1000).toISOString(),
        deviceApiUrl: operator.deviceApiUrl,
        caFingerprint: ca.fingerprint,
      }
    }, 201), {parse: 'none'})
}

/** Where a device presents its ticket, signed with its key: beside the Margo device interface. */
export function redeemRoutes(device: DeviceApiContext, ticketKey: Uint8Array) {
  return new Elysia({name: 'margo-enrollment-redeem'})
    .post(REDEEM_PATH, async ({request}) => {
      const body = new Uint8Array(await request.arrayBuffer())
      if (body.byteLength > REDEEM_MAX_BYTES) return answer(413, 'payload_too_large', `the body exceeds ${REDEEM_MAX_BYTES} bytes`)
      let doc: {clientId?: unknown, ticket?: unknown}
      try {
        doc = JSON.parse(new TextDecoder().decode(body)) ?? {}
      } catch {
        return answer(400, 'bad_request', 'the body must be {"clientId": "…", "ticket": "…"}')
      }
      if (typeof doc.clientId !== 'string' || typeof doc.ticket !== 'string' || doc.ticket.length > TICKET_MAX_CHARS) {
        return answer(400, 'bad_request', 'the body must be {"clientId": "…", "ticket": "…"}')
      }
      const client = device.store.getClient(doc.clientId)
      if (!client) return answer(404, 'not_found', `no device is onboarded as ${doc.clientId}: onboard first`)
      // The key comes from the stored certificate of the named client: only that device can redeem for itself.
      if (!request.headers.has('signature') || !request.headers.has('signature-input')) return answer(401, 'signature_missing', "sign the request with the device's key (RFC 9421)")
      if (checkContentDigest(request.headers.get('content-digest'), body) !== 'ok') return answer(400, 'invalid_digest', 'missing or wrong Content-Digest')
      const verified = await verifyRequest({method: 'POST', url: signedTarget(request, device.config.externalUrl), headers: request.headers, body}, {
        publicKey: clientKey(device, client), now: Math.floor(device.now().getTime() / 1000),
        maxAgeSeconds: device.config.signatureMaxAgeSeconds, skewSeconds: device.config.signatureSkewSeconds,
      })
      if (!verified.ok) return answer(401, 'signature_invalid', `the request is not signed by the device's key: ${verified.detail}`)
      if (client.enrollment === 'revoked') return answer(403, 'revoked', 'this device has been revoked')
      const check = verifyTicket(ticketKey, doc.ticket, device.now())
      if (!check.ok) {
        device.log.warn('enrollment.ticket_refused', {clientId: client.clientId, reason: check.reason})
        return answer(403, 'ticket_refused', check.reason)
      }
      const labels = mergeLabels(client.labels, check.payload.labels)
      device.store.setLabels(client.clientId, labels)
      device.log.info('device.labelled', {clientId: client.clientId, labels: Object.keys(check.payload.labels), by: 'enrollment-ticket'})
      device.events.emit({type: 'device.updated', clientId: client.clientId})
      return Response.json({clientId: client.clientId, labels, enrollment: client.enrollment})
    }, {parse: 'none'})
}
