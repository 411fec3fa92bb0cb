import {TransportError} from '../device-client.ts'
import type {AgentContext} from './context.ts'
import {WfmResponseError, problemOf} from './errors.ts'

/**
 * Send queued status reports, oldest change first. The latest report per deployment survives
 * restarts in the outbox; it is removed only when the WFM acknowledged it, or refused it for
 * good (a 4xx other than 429 would be refused again). Stops at the first transport error or
 * retryable answer, which the caller turns into back-off.
 */
export async function flushOutbox(ctx: AgentContext): Promise<{sent: number}> {
  let sent = 0
  for (const entry of ctx.outbox.pending()) {
    const res = await ctx.client.postStatus(entry.deploymentId, entry.report)
    if (res.status >= 200 && res.status < 300) {
      ctx.outbox.ack(entry.deploymentId, entry.seq)
      sent++
      ctx.log.debug('status.sent', {deploymentId: entry.deploymentId, state: entry.report.status.state})
      continue
    }
    const err = new WfmResponseError(res.status, res.retryAfter, problemOf(res.body), `status report for ${entry.deploymentId}`)
    if (err.retryable || res.status === 401 || res.status === 403) throw err
    ctx.log.warn('status.rejected', {deploymentId: entry.deploymentId, status: res.status, detail: err.problem?.detail})
    ctx.outbox.ack(entry.deploymentId, entry.seq)
  }
  return {sent}
}

/** Flush when possible, without letting a failure escape: used right after a state change. */
export async function tryFlushOutbox(ctx: AgentContext): Promise<void> {
  if (ctx.quiet()) return
  try {
    await flushOutbox(ctx)
  } catch (err) {
    if (!(err instanceof TransportError || err instanceof WfmResponseError)) throw err
    ctx.log.debug('status.deferred', {reason: err.message})
  }
}
