import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto'
import {labelMapProblems, sortLabels} from '../../operator-contract/labels.ts'

/**
 * Enrollment tickets carry the labels an operator wants a device to have once it onboards. A
 * ticket is `mgt1.<payload>.<mac>`: the payload (base64url JSON: labels, expiry, nonce) is
 * readable, and an HMAC-SHA256 under the server's enrollment key makes it unforgeable, so the
 * server keeps no table of tickets. A ticket may be used by several devices until it expires:
 * one enroll line serves a batch of devices that share their labels.
 */
const PREFIX = 'mgt1'
/** Well below the body cap of the redeem endpoint, and enough for a few dozen labels. */
export const TICKET_MAX_CHARS = 8192

export interface TicketPayload {
  labels: Record<string, string>
  /** Seconds since the epoch. */
  expiresAt: number
}

export type TicketCheck = {ok: true, payload: TicketPayload} | {ok: false, reason: string}

export const newTicketKey = (): Uint8Array => new Uint8Array(randomBytes(32))

const mac = (key: Uint8Array, payload: string) => createHmac('sha256', key).update(`${PREFIX}.${payload}`).digest('base64url')

export function issueTicket(key: Uint8Array, payload: TicketPayload): string {
  const body = Buffer.from(JSON.stringify({labels: sortLabels(payload.labels), expiresAt: payload.expiresAt, nonce: randomBytes(9).toString('base64url')})).toString('base64url')
  return `${PREFIX}.${body}.${mac(key, body)}`
}

/** The ticket's labels when its MAC holds and it has not expired at `now`. */
export function verifyTicket(key: Uint8Array, ticket: string, now: Date): TicketCheck {
  if (ticket.length > TICKET_MAX_CHARS) return {ok: false, reason: 'the ticket is too long'}
  const parts = ticket.split('.')
  if (parts.length !== 3 || parts[0] !== PREFIX) return {ok: false, reason: 'this is not a margo enrollment ticket'}
  const [, body, given] = parts as [string, string, string]
  const want = Buffer.from(mac(key, body))
  if (Buffer.byteLength(given) !== want.length || !timingSafeEqual(Buffer.from(given), want)) {
    return {ok: false, reason: 'the ticket was not issued by this server (or was altered)'}
  }
  let doc: unknown
  try {
    doc = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  } catch {
    return {ok: false, reason: 'the ticket payload is not JSON'}
  }
  const {labels, expiresAt} = (doc ?? {}) as {labels?: unknown, expiresAt?: unknown}
  if (typeof expiresAt !== 'number' || typeof labels !== 'object' || labels === null || Array.isArray(labels)) return {ok: false, reason: 'the ticket payload is malformed'}
  if (labelMapProblems(labels as Record<string, unknown>, {allowNull: false}).length > 0) return {ok: false, reason: 'the ticket holds invalid labels'}
  if (expiresAt * 1000 <= now.getTime()) return {ok: false, reason: `the ticket expired at ${new Date(expiresAt * 1000).toISOString()} — ask the operator for a new enroll command`}
  return {ok: true, payload: {labels: labels as Record<string, string>, expiresAt}}
}
