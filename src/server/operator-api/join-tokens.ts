import {Elysia} from 'elysia'
import {JoinRefused, createJoinToken, listJoinTokenInfos, redeemJoinToken, revokeJoinTokenById} from '../access/join-tokens.ts'
import type {CreatedJoinToken, JoinResult, JoinTokenInfo} from '../../operator-contract/views.ts'
import {accessOf} from './guard.ts'
import {OPERATOR_PREFIX, auditRequest, operatorHandler, optionalObject, optionalString, principalOf, readJson, type OperatorApiContext} from './context.ts'
import {OperatorError, badRequest} from './errors.ts'

/** A join request is two short strings; anything much larger is not one. */
const JOIN_BODY_LIMIT = 16 * 1024

/**
 * Join tokens: admins create, list and revoke them; `POST /join` is where a device presents one
 * before it onboards. That route needs no operator token: the join token in its body is the
 * credential, and it can do nothing but preauthorise one certificate fingerprint.
 */
export function joinTokenRoutes(ctx: OperatorApiContext) {
  const handle = operatorHandler(ctx)
  return new Elysia({name: 'margo-operator-join-tokens', prefix: OPERATOR_PREFIX})
    .get('/join-tokens', ({request}) => handle(request, (): {joinTokens: JoinTokenInfo[]} => ({joinTokens: listJoinTokenInfos(ctx.store)})))
    .post('/join-tokens', ({request}) => handle(request, async (): Promise<CreatedJoinToken> => {
      const body = await readJson(request, ctx.maxBodyBytes)
      const wanted = {
        labels: optionalObject(body.labels, 'labels'),
        uses: body.uses ?? undefined,
        expires: optionalString(body.expires, 'expires'),
        scope: optionalString(body.scope, 'scope'),
      }
      return ctx.store.transaction(() => {
        const created = createJoinToken(ctx.store, wanted, principalOf(request)!, ctx.now())
        // The summary names what the token grants, never the token.
        auditRequest(ctx, request, {target: `join_token:${created.id}`, summary: {labels: created.labels, scope: created.scope, maxUses: created.maxUses, expiresAt: created.expiresAt}})
        ctx.log.info('join_token.created', {id: created.id, labels: Object.keys(created.labels), maxUses: created.maxUses, expiresAt: created.expiresAt})
        return created
      })
    }, 201), {parse: 'none'})
    .post('/join-tokens/:id/revoke', ({request, params}) => handle(request, () => ctx.store.transaction((): JoinTokenInfo => {
      const info = revokeJoinTokenById(ctx.store, params.id, ctx.now())
      auditRequest(ctx, request, {target: `join_token:${info.id}`})
      ctx.log.info('join_token.revoked', {id: info.id})
      return info
    })), {parse: 'none'})
    .post('/join', ({request}) => handle(request, async (): Promise<JoinResult> => {
      const body = await readJson(request, JOIN_BODY_LIMIT)
      const token = optionalString(body.token, 'token')
      const fingerprint = optionalString(body.fingerprint, 'fingerprint')
      if (!token || !fingerprint) throw badRequest('give "token" (the join token) and "fingerprint" (sha256:<hex> of the certificate the device onboards with)')
      try {
        const result = redeemJoinToken(ctx.store, {token, fingerprint}, ctx.now(), accessOf(request)?.requestId)
        ctx.log.info('device.joined', {joinTokenId: result.joinTokenId, fingerprint: result.fingerprint, approvedClientId: result.approvedClientId, repeated: result.repeated})
        if (result.approvedClientId) ctx.events.emit({type: 'device.updated', clientId: result.approvedClientId})
        return result
      } catch (err) {
        if (!(err instanceof JoinRefused)) throw err
        ctx.log.warn('join.refused', {code: err.code, joinTokenId: err.tokenId, fingerprint})
        throw new OperatorError(err.status, err.code, err.message)
      }
    }), {parse: 'none'})
}

const errorRef = {$ref: '#/components/responses/Error'}
const json = (schema: object, description = 'OK') => ({description, content: {'application/json': {schema}}})
const JOIN_TOKEN = {
  type: 'object', required: ['id', 'labels', 'scope', 'maxUses', 'uses', 'createdAt', 'createdBy', 'expiresAt', 'revokedAt', 'lastUsedAt'],
  properties: {
    id: {type: 'string'}, labels: {type: 'object', additionalProperties: {type: 'string'}}, scope: {type: ['string', 'null']},
    maxUses: {type: 'integer'}, uses: {type: 'integer'}, createdAt: {type: 'string'}, createdBy: {type: 'string'},
    expiresAt: {type: 'string'}, revokedAt: {type: ['string', 'null']}, lastUsedAt: {type: ['string', 'null']},
  },
}
const errors = {'401': errorRef, '403': errorRef}

export const JOIN_TOKEN_OPENAPI_PATHS = {
  '/join-tokens': {
    get: {summary: 'Join tokens (never their secrets)', responses: {'200': json({type: 'object', properties: {joinTokens: {type: 'array', items: JOIN_TOKEN}}}), ...errors}},
    post: {
      summary: 'Create a join token; the answer carries the secret, shown this once',
      requestBody: {content: {'application/json': {schema: {type: 'object', properties: {
        labels: {type: 'object', additionalProperties: {type: 'string'}}, uses: {type: 'integer', minimum: 1, default: 1},
        expires: {type: 'string', description: 'e.g. 24h (the default), 30m, 7d'}, scope: {type: 'string', description: 'label selector the admitted devices must match'},
      }}}}},
      responses: {'201': json({...JOIN_TOKEN, properties: {...JOIN_TOKEN.properties, token: {type: 'string'}}}, 'Created'), '400': errorRef, '422': errorRef, ...errors},
    },
  },
  '/join-tokens/{id}/revoke': {post: {summary: 'Revoke a join token: it admits no further device', parameters: [{name: 'id', in: 'path', required: true, schema: {type: 'string'}}], responses: {'200': json(JOIN_TOKEN), '404': errorRef, ...errors}}},
  '/join': {post: {
    summary: 'Present a join token with the fingerprint of the certificate a device is about to onboard with; no operator token: the join token is the credential',
    security: [],
    requestBody: {required: true, content: {'application/json': {schema: {type: 'object', required: ['token', 'fingerprint'], properties: {token: {type: 'string'}, fingerprint: {type: 'string', pattern: '^sha256:[0-9a-f]{64}$'}}}}}},
    responses: {
      '200': json({type: 'object', properties: {fingerprint: {type: 'string'}, joinTokenId: {type: 'string'}, labels: {type: 'object'}, approvedClientId: {type: ['string', 'null']}, repeated: {type: 'boolean'}}}),
      '400': errorRef, '401': errorRef, '403': errorRef, '409': errorRef,
    },
  }},
} as const
