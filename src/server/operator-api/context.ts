import {appendAudit} from '../audit/service.ts'
import {auditTarget, routeParams} from '../audit/targets.ts'
import type {EventBus} from '../events.ts'
import type {Store} from '../store/store.ts'
import type {Logger} from '../../util/log.ts'
import {OperatorError, badRequest, notFound, toOperatorError} from './errors.ts'
import type {ClientRecord} from '../store/store.ts'
import {resolveId, type IdVisible} from './ids.ts'
import {accessOf, authorizeRequest, type RequestAccess} from './guard.ts'
import type {Principal} from '../access/tokens.ts'
import {labelsInScope, rolloutScopeProblem} from '../access/scope.ts'
import {getRollout} from '../store/rollouts-repo.ts'

export const OPERATOR_PREFIX = '/operator/v1'

export interface OperatorApiContext {
  store: Store
  events: EventBus
  log: Logger
  /** The data dir's token from the first start: the admin token named `bootstrap`. */
  token: string
  version: string
  enrollment: string
  deviceApiUrl: string
  maxBodyBytes: number
  startedAt: Date
  now: () => Date
  /**
   * Last-seen times not yet flushed to the store (the device interface's in-memory map); without
   * it, liveness is judged from the stored times, which lag by up to one flush period.
   */
  lastSeen?: () => Map<string, string>
  /** How long before a device certificate expires `margo status` lists it (default 30 days). */
  certExpiryWarningMs?: number
  /** When devices count as stale and offline; defaults in src/operator-contract/liveness.ts. */
  liveness?: {staleAfterMs: number, offlineAfterMs: number}
  /** `sha256:<hex>` of the root CA devices pin (createServerApp sets it from the device interface's CA). */
  caFingerprint?: string
  /** The Prometheus exposition of `GET /metrics` (src/server/metrics/); empty when not given. */
  metrics?: () => string
}

/** The parsed JSON body of a request, kept for its audit entry. */
const BODIES = new WeakMap<Request, Record<string, unknown>>()

/**
 * Every operator route runs through this: the access check (./guard.ts; already done by the
 * API's hook when the route is served by `operatorApi`), then the work, whose result is sent
 * as JSON (or as is, when it is a Response), then the audit entry of a change. Typed errors
 * become their response; anything else is logged and answered 500 without details.
 */
export function operatorHandler(ctx: OperatorApiContext) {
  return async (request: Request, work: () => unknown | Promise<unknown>, status = 200): Promise<Response> => {
    let requestId: string | undefined
    const started = performance.now()
    try {
      const access = authorizeRequest(ctx, request, OPERATOR_PREFIX)
      requestId = access.requestId
      const result = await work()
      // A revocation is answered once every serve process refuses the device (Store.credentialsSettled).
      await ctx.store.credentialsSettled(started)
      if (access.rule.action && !access.audited) {
        const body = BODIES.get(request)
        if (body?.dryRun !== true) auditRequest(ctx, request, {result: result instanceof Response ? await result.clone().json().catch(() => undefined) : result})
      }
      const response = result instanceof Response ? result : Response.json(result, {status})
      response.headers.set('x-request-id', requestId)
      return response
    } catch (err) {
      const known = toOperatorError(err)
      // Bun aborts the request's signal when the client closes the connection, e.g. mid-upload.
      const aborted = !known && request.signal.aborted
      if (aborted) ctx.log.info('operator_api.client_aborted', {method: request.method, path: new URL(request.url).pathname, error: err instanceof Error ? err.message : String(err), requestId})
      const response = known
        ? known.toResponse()
        : aborted
          ? new OperatorError(400, 'bad_request', 'the request was cut off by the client').toResponse()
          : new OperatorError(500, 'internal', 'the server failed to handle the request; see the server log').toResponse()
      if (!known && !aborted) ctx.log.error('operator_api.failure', {error: err instanceof Error ? err.message : String(err), requestId})
      if (requestId) response.headers.set('x-request-id', requestId)
      return response
    }
  }
}

/** Who is calling; the access check has run by the time any route's work does. */
export function principalOf(request: Request): Principal | null {
  return accessOf(request)?.principal ?? null
}

/** Whether the caller's scope covers a device (tokens without a scope cover every device). */
export function deviceVisible(request: Request, client: Pick<ClientRecord, 'labels'>): boolean {
  return labelsInScope(principalOf(request)?.scope ?? null, client.labels)
}

/**
 * Writes the request's audit entry: actor, action (from the permission table), target and the
 * redacted body. A route that calls it inside its own store transaction records the change and
 * its entry atomically; otherwise the handler calls it right after the work succeeds.
 */
export function auditRequest(ctx: Pick<OperatorApiContext, 'store' | 'now'>, request: Request, extra: {result?: unknown, target?: string, summary?: Record<string, unknown>} = {}) {
  const access: RequestAccess | undefined = accessOf(request)
  if (!access?.rule.action || access.audited) return
  const path = new URL(request.url).pathname.slice(OPERATOR_PREFIX.length)
  const params = routeParams(access.route, path)
  const body = BODIES.get(request)
  appendAudit(ctx.store, {
    actor: access.principal?.name ?? 'anonymous',
    action: access.rule.action,
    target: extra.target ?? auditTarget(access.route, params, body, extra.result),
    summary: extra.summary ?? {method: request.method, path: access.route, ...(Object.keys(params).length ? {params} : {}), ...(body ? {body} : {})},
    requestId: access.requestId,
  }, ctx.now())
  access.audited = true
}

export async function readJson(request: Request, limit: number): Promise<Record<string, unknown>> {
  const bytes = new Uint8Array(await request.arrayBuffer())
  if (bytes.length > limit) throw new OperatorError(413, 'payload_too_large', `the body exceeds ${limit} bytes`)
  if (bytes.length === 0) return {}
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes))
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object')
    BODIES.set(request, v)
    return v as Record<string, unknown>
  } catch {
    throw badRequest('the body must be a JSON object')
  }
}

export const optionalString = (v: unknown, field: string): string | undefined => {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string' || v === '') throw badRequest(`${field} must be a non-empty string`)
  return v
}

export const optionalObject = (v: unknown, field: string): Record<string, unknown> | undefined => {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${field} must be an object`)
  return v as Record<string, unknown>
}

export const queryString = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

/** A scoped token's refusal: 403 naming the devices or the rule. */
export const outsideScope = (problem: {message: string, details: string[]}) =>
  new OperatorError(403, 'outside_scope', problem.message, problem.details.map(d => ({path: 'scope', message: d})))

/** A device the caller may see: one outside a token's scope answers the same 404 as a device that does not exist. */
export function requireVisibleDevice(ctx: Pick<OperatorApiContext, 'store'>, request: Request, clientId: string): ClientRecord {
  const c = ctx.store.getClient(resolveId(ctx.store, 'device', clientId, idVisibility(ctx, request)))
  if (!c || !deviceVisible(request, c)) throw notFound('device', clientId, 'run: margo device list')
  return c
}

/**
 * Which ids a scoped token may name (undefined: every id). A prefix then resolves only among
 * them, and an ambiguous one never lists a device, deployment or rollout outside the scope.
 */
export function idVisibility(ctx: Pick<OperatorApiContext, 'store'>, request: Request): IdVisible | undefined {
  const p = principalOf(request)
  if (!p?.scope) return undefined
  const scope = p.scope
  const labelsOf = (clientId: string) => ctx.store.getClient(clientId)?.labels ?? null
  const deviceIn = (clientId: string) => {
    const labels = labelsOf(clientId)
    return labels !== null && labelsInScope(scope, labels)
  }
  return (kind, id) => {
    if (kind === 'device') return deviceIn(id)
    if (kind === 'deployment') {
      const d = ctx.store.getDeployment(id)
      return d !== null && deviceIn(d.clientId)
    }
    const r = getRollout(ctx.store, id)
    return r !== null && rolloutScopeProblem(scope, p.scopeText ?? '', r, labelsOf) === null
  }
}

