import {Elysia} from 'elysia'
import {listAudit, exportAudit, verifyAudit} from '../audit/service.ts'
import {createToken, listTokenInfos, principalView, revokeTokenByName} from '../access/tokens.ts'
import type {AuditEntry, AuditVerification, CreatedToken, Principal, TokenInfo} from '../../operator-contract/views.ts'
import {OPERATOR_PREFIX, auditRequest, operatorHandler, optionalString, principalOf, queryString, readJson, type OperatorApiContext} from './context.ts'
import {badRequest} from './errors.ts'

function sinceOf(text: string | undefined, now: Date): string | undefined {
  if (!text) return undefined
  const rel = /^(\d{1,6})([mhdw])$/.exec(text)
  if (rel) return new Date(now.getTime() - Number(rel[1]) * {m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000}[rel[2] as 'm' | 'h' | 'd' | 'w']).toISOString()
  const t = Date.parse(text)
  if (Number.isNaN(t)) throw badRequest(`since ${JSON.stringify(text)} is neither a time (2025-06-03T00:00:00Z) nor a duration such as 24h or 7d`)
  return new Date(t).toISOString()
}

/** Tokens (admin), the audit log (auditor, admin) and who-am-I (any token). */
export function accessRoutes(ctx: OperatorApiContext) {
  const handle = operatorHandler(ctx)
  return new Elysia({name: 'margo-operator-access', prefix: OPERATOR_PREFIX})
    .get('/whoami', ({request}) => handle(request, (): Principal => principalView(principalOf(request)!)))
    .get('/tokens', ({request}) => handle(request, (): {tokens: TokenInfo[]} => ({tokens: listTokenInfos(ctx.store)})))
    .post('/tokens', ({request}) => handle(request, async (): Promise<CreatedToken> => {
      const body = await readJson(request, ctx.maxBodyBytes)
      const name = optionalString(body.name, 'name')
      const role = optionalString(body.role, 'role')
      if (!name || !role) throw badRequest('name and role are required')
      const now = ctx.now()
      return ctx.store.transaction(() => {
        const {info, token} = createToken(ctx.store, {name, role, scope: optionalString(body.scope, 'scope'), expires: optionalString(body.expires, 'expires')}, principalOf(request)!.name, now)
        auditRequest(ctx, request, {target: `token:${name}`})
        ctx.log.info('token.created', {name, role, scope: info.scope})
        return {...info, token}
      })
    }, 201), {parse: 'none'})
    .post('/tokens/:name/revoke', ({request, params}) => handle(request, () => ctx.store.transaction((): TokenInfo => {
      const info = revokeTokenByName(ctx.store, params.name, ctx.now())
      auditRequest(ctx, request)
      ctx.log.info('token.revoked', {name: params.name})
      return info
    })), {parse: 'none'})
    .get('/audit', ({request, query}) => handle(request, (): {entries: AuditEntry[]} => {
      const limit = queryString(query.limit)
      if (limit !== undefined && !/^\d{1,7}$/.test(limit)) throw badRequest('limit must be a positive number')
      return {entries: listAudit(ctx.store, {since: sinceOf(queryString(query.since), ctx.now()), actor: queryString(query.actor), target: queryString(query.target), limit: limit ? Number(limit) : undefined})}
    }))
    .get('/audit/verify', ({request}) => handle(request, (): AuditVerification => verifyAudit(ctx.store)))
    .get('/audit/export', ({request}) => handle(request, () => {
      // JSON lines, streamed, so a large log never sits in memory at once.
      const rows = exportAudit(ctx.store)
      const encoder = new TextEncoder()
      const body = new ReadableStream({
        pull(controller) {
          const next = rows.next()
          if (next.done) controller.close()
          else controller.enqueue(encoder.encode(JSON.stringify(next.value) + '\n'))
        },
      })
      return new Response(body, {headers: {'content-type': 'application/x-ndjson; charset=utf-8'}})
    }))
}

const errorRef = {$ref: '#/components/responses/Error'}
const json = (schema: object, description = 'OK') => ({description, content: {'application/json': {schema}}})
const TOKEN = {
  type: 'object', required: ['name', 'role', 'scope', 'createdAt', 'createdBy', 'expiresAt', 'revokedAt', 'lastUsedAt'],
  properties: {
    name: {type: 'string'}, role: {enum: ['admin', 'operator', 'viewer', 'auditor']}, scope: {type: ['string', 'null'], description: 'label selector'},
    createdAt: {type: 'string'}, createdBy: {type: 'string'}, expiresAt: {type: ['string', 'null']}, revokedAt: {type: ['string', 'null']}, lastUsedAt: {type: ['string', 'null']},
  },
}
const ENTRY = {
  type: 'object',
  properties: {
    seq: {type: 'integer'}, at: {type: 'string'}, actor: {type: 'string'}, action: {type: 'string'}, target: {type: 'string'},
    summary: {type: 'object'}, requestId: {type: ['string', 'null']}, prevHash: {type: 'string'}, hash: {type: 'string'},
  },
}
const errors = {'401': errorRef, '403': errorRef}

export const ACCESS_OPENAPI_PATHS = {
  '/whoami': {get: {summary: "The calling token's name, role, scope and permissions", responses: {'200': json({type: 'object'}), ...errors}}},
  '/tokens': {
    get: {summary: 'Operator tokens (never their secrets)', responses: {'200': json({type: 'object', properties: {tokens: {type: 'array', items: TOKEN}}}), ...errors}},
    post: {
      summary: 'Create a token; the answer carries the secret, shown this once',
      requestBody: {required: true, content: {'application/json': {schema: {type: 'object', required: ['name', 'role'], properties: {
        name: {type: 'string'}, role: {enum: ['admin', 'operator', 'viewer', 'auditor']}, scope: {type: 'string'}, expires: {type: 'string', description: 'e.g. 30d, 12h'},
      }}}}},
      responses: {'201': json({...TOKEN, properties: {...TOKEN.properties, token: {type: 'string'}}}, 'Created'), '400': errorRef, '409': errorRef, '422': errorRef, ...errors},
    },
  },
  '/tokens/{name}/revoke': {post: {summary: 'Revoke a token (its next request gets 401 token_revoked)', parameters: [{name: 'name', in: 'path', required: true, schema: {type: 'string'}}], responses: {'200': json(TOKEN), '404': errorRef, ...errors}}},
  '/audit': {get: {
    summary: 'Audit log entries, oldest first',
    parameters: ['since', 'actor', 'target', 'limit'].map(name => ({name, in: 'query', schema: {type: 'string'}})),
    responses: {'200': json({type: 'object', properties: {entries: {type: 'array', items: ENTRY}}}), ...errors},
  }},
  '/audit/verify': {get: {summary: 'Check the hash chain; names the first entry that breaks it', responses: {'200': json({type: 'object'}), ...errors}}},
  '/audit/export': {get: {summary: 'Every entry as JSON lines', responses: {'200': {description: 'application/x-ndjson'}, ...errors}}},
} as const
