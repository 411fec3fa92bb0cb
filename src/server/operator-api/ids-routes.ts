import {Elysia} from 'elysia'
import {NotFoundError} from '../../util/errors.ts'
import {OPERATOR_PREFIX, idVisibility, operatorHandler, queryString, type OperatorApiContext} from './context.ts'
import {ID_KINDS, MIN_PREFIX_LENGTH, findId, parseIdKinds} from './ids.ts'

/**
 * Which id an operator's (possibly shortened) id names, for a client that must know the kind
 * before acting: `margo undeploy` takes a rollout or a deployment id.
 */
export function idRoutes(ctx: OperatorApiContext) {
  const handle = operatorHandler(ctx)
  return new Elysia({name: 'margo-operator-ids', prefix: OPERATOR_PREFIX})
    .get('/ids/:prefix', ({request, params, query}) => handle(request, () => {
      const kinds = parseIdKinds(queryString(query.kinds))
      const found = findId(ctx.store, kinds, params.prefix, idVisibility(ctx, request))
      if (!found) {
        throw new NotFoundError(`no ${kinds.join(', ')} id is or starts with ${params.prefix} (a prefix needs at least ${MIN_PREFIX_LENGTH} characters)`, {code: 'not_found'})
      }
      return found
    }))
}

const errorRef = {$ref: '#/components/responses/Error'}
export const IDS_OPENAPI_PATHS = {
  '/ids/{prefix}': {get: {
    summary: `The full id and kind a unique id prefix (at least ${MIN_PREFIX_LENGTH} characters) or a full id names; every route taking a device, deployment or rollout id accepts the same prefixes`,
    parameters: [
      {name: 'prefix', in: 'path', required: true, schema: {type: 'string'}},
      {name: 'kinds', in: 'query', description: `Comma-separated kinds to look in (${ID_KINDS.join(', ')}); all when absent`, schema: {type: 'string'}},
    ],
    responses: {
      '200': {description: 'OK', content: {'application/json': {schema: {type: 'object', required: ['id', 'kind'], properties: {id: {type: 'string'}, kind: {enum: [...ID_KINDS]}}}}}},
      // 422 ambiguous_id: several ids start with the prefix; the message and details name them.
      '400': errorRef, '401': errorRef, '404': errorRef, '422': errorRef,
    },
  }},
} as const
