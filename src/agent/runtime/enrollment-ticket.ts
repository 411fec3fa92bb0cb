import {createHash} from 'node:crypto'
import type {AgentContext} from './context.ts'
import {WfmResponseError} from './errors.ts'

const FILE = 'enrollment.json'

interface Redeemed {
  clientId: string
  /** SHA-256 of the ticket: the ticket itself is a secret and stays in the config file only. */
  ticketSha256: string
  outcome: 'applied' | 'refused'
  at: string
  detail?: string
}

function messageOf(body: Uint8Array): string | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(body)) as {error?: {message?: unknown}}
    return typeof v.error?.message === 'string' ? v.error.message : undefined
  } catch {
    return undefined
  }
}

/**
 * Presents the enrollment ticket of the install command once per clientId and ticket: the
 * fleet manager then gives the device the labels the operator chose. A refused ticket (expired,
 * from another server) is logged and not presented again; the device works on without the labels.
 */
export async function redeemEnrollmentTicket(ctx: AgentContext, clientId: string, ticket: string): Promise<'done' | 'applied' | 'refused'> {
  const ticketSha256 = createHash('sha256').update(ticket).digest('hex')
  const known = ctx.state.readJson<Redeemed>(FILE)
  if (known?.clientId === clientId && known.ticketSha256 === ticketSha256) return 'done'
  const res = await ctx.client.redeemEnrollmentTicket(ticket)
  const record = (outcome: Redeemed['outcome'], detail?: string) =>
    ctx.state.writeJson(FILE, {clientId, ticketSha256, outcome, at: ctx.now().toISOString(), ...(detail ? {detail} : {})} satisfies Redeemed)
  if (res.status === 200) {
    let labels: unknown
    try {
      labels = (JSON.parse(new TextDecoder().decode(res.body)) as {labels?: unknown}).labels
    } catch { /* the labels are only logged */ }
    record('applied')
    ctx.log.info('enrollment.labels_applied', {clientId, labels})
    return 'applied'
  }
  const detail = messageOf(res.body)
  const err = new WfmResponseError(res.status, res.retryAfter, detail ? {detail} : null, 'enrollment ticket')
  if (err.retryable) throw err
  record('refused', detail ?? `HTTP ${res.status}`)
  ctx.log.error('enrollment.ticket_refused', {clientId, status: res.status, detail, hint: 'ask the operator for a new enroll command, or set the labels with margo device label'})
  return 'refused'
}
