import {timingSafeEqual} from 'node:crypto'
import type {EventBus} from '../events.ts'
import type {Store} from '../store/store.ts'
import type {Logger} from '../../util/log.ts'
import {OperatorError, badRequest, notFound, toOperatorError} from './errors.ts'
import type {ClientRecord} from '../store/store.ts'
import {resolveId} from './ids.ts'

export const OPERATOR_PREFIX = '/operator/v1'

export interface OperatorApiContext {
  store: Store
  events: EventBus
  log: Logger
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
  /** When devices count as stale and offline; defaults in src/operator-contract/liveness.ts. */
  liveness?: {staleAfterMs: number, offlineAfterMs: number}
}

export function tokenMatches(header: string | null, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '')
  if (!m) return false
  const given = Buffer.from(m[1]!.trim())
  const want = Buffer.from(token)
  return given.length === want.length && timingSafeEqual(given, want)
}

/**
 * Every operator route runs through this: bearer-token check, then the work, whose result is
 * sent as JSON (or as is, when it is a Response). Typed errors become their response; anything
 * else is logged and answered 500 without details.
 */
export function operatorHandler(ctx: OperatorApiContext) {
  return async (request: Request, work: () => unknown | Promise<unknown>, status = 200): Promise<Response> => {
    try {
      if (!tokenMatches(request.headers.get('authorization'), ctx.token)) {
        throw new OperatorError(401, 'unauthorized', 'missing or wrong operator token — pass --token, set MARGO_TOKEN, or run on the server with --data-dir')
      }
      const result = await work()
      if (result instanceof Response) return result
      return Response.json(result, {status})
    } catch (err) {
      const known = toOperatorError(err)
      if (known) return known.toResponse()
      ctx.log.error('operator_api.failure', {error: err instanceof Error ? err.message : String(err)})
      return new OperatorError(500, 'internal', 'the server failed to handle the request; see the server log').toResponse()
    }
  }
}

export async function readJson(request: Request, limit: number): Promise<Record<string, unknown>> {
  const bytes = new Uint8Array(await request.arrayBuffer())
  if (bytes.length > limit) throw new OperatorError(413, 'payload_too_large', `the body exceeds ${limit} bytes`)
  if (bytes.length === 0) return {}
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes))
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object')
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

/** The device with this clientId (or a unique prefix of it), or a 404 that says how to find the right id. */
export function requireDevice(ctx: Pick<OperatorApiContext, 'store'>, clientId: string): ClientRecord {
  const c = ctx.store.getClient(resolveId(ctx.store, 'device', clientId))
  if (!c) throw notFound('device', clientId, 'run: margo device list')
  return c
}
