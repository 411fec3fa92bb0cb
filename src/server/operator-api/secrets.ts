import {Elysia} from 'elysia'
import type {SecretChange, SecretInfo} from '../../operator-contract/views.ts'
import type {SecretService} from '../secrets/service.ts'
import {OPERATOR_PREFIX, auditRequest, operatorHandler, principalOf, readJson, type OperatorApiContext} from './context.ts'
import {badRequest} from './errors.ts'

/**
 * Secrets (admin): set, list, delete. No route ever answers with a value; the audit entry of a
 * change names the secret and the deployments it re-rendered, never the body.
 */
export function secretRoutes(ctx: OperatorApiContext, secrets: SecretService) {
  const handle = operatorHandler(ctx)
  return new Elysia({name: 'margo-operator-secrets', prefix: OPERATOR_PREFIX})
    .get('/secrets', ({request}) => handle(request, (): {secrets: SecretInfo[]} => ({secrets: secrets.list()})))
    .put('/secrets/:name', ({request, params}) => handle(request, async () => {
      const body = await readJson(request, ctx.maxBodyBytes)
      if (typeof body.value !== 'string') throw badRequest('the body must be {"value": "<the secret>"}')
      const actor = principalOf(request)?.name ?? 'operator'
      const name = decodeURIComponent(params.name)
      const result: SecretChange = ctx.store.transaction(() => {
        const change = secrets.set(name, body.value as string, actor)
        auditRequest(ctx, request, {target: `secret:${name}`, summary: {name, created: change.created, rerendered: change.rerendered.map(r => r.deploymentId)}})
        return change
      })
      ctx.log.info(result.created ? 'secret.created' : 'secret.rotated', {name, rerendered: result.rerendered.length})
      return Response.json(result, {status: result.created ? 201 : 200})
    }), {parse: 'none'})
    .delete('/secrets/:name', ({request, params}) => handle(request, () => {
      const name = decodeURIComponent(params.name)
      const result = ctx.store.transaction(() => {
        const removed = secrets.remove(name)
        auditRequest(ctx, request, {target: `secret:${name}`, summary: {name}})
        return removed
      })
      ctx.log.info('secret.deleted', {name})
      return result
    }), {parse: 'none'})
}

const errorRef = {$ref: '#/components/responses/Error'}
const nameParam = {name: 'name', in: 'path', required: true, schema: {type: 'string'}}
const info = {
  type: 'object',
  properties: {
    name: {type: 'string'}, createdAt: {type: 'string'}, updatedAt: {type: 'string'}, updatedBy: {type: 'string'},
    usedBy: {type: 'object', properties: {rollouts: {type: 'array', items: {type: 'string'}}, deployments: {type: 'array', items: {type: 'string'}}}},
  },
}

export const SECRETS_OPENAPI_PATHS = {
  '/secrets': {get: {summary: 'Secrets by name, with who refers to them; never their values', responses: {'200': {description: 'OK', content: {'application/json': {schema: {type: 'object', properties: {secrets: {type: 'array', items: info}}}}}}, '403': errorRef}}},
  '/secrets/{name}': {
    put: {
      summary: 'Create or rotate a secret (parameter values refer to it as ${secret:NAME}); rotating re-renders every deployment that refers to it, in place',
      parameters: [nameParam],
      requestBody: {required: true, content: {'application/json': {schema: {type: 'object', required: ['value'], properties: {value: {type: 'string'}}}}}},
      responses: {'201': {description: 'Created'}, '200': {description: 'Rotated'}, '400': errorRef, '403': errorRef, '422': errorRef},
    },
    delete: {summary: 'Delete a secret; refused (409) while a rollout or deployment refers to it', parameters: [nameParam], responses: {'200': {description: 'Deleted'}, '404': errorRef, '409': errorRef}},
  },
}
