import {Elysia} from 'elysia'
import {OPERATOR_PREFIX, operatorHandler, readJson, type OperatorApiContext} from './context.ts'
import type {RegistryService} from '../registries/service.ts'

/** Registries the catalog is filled from: OCI registries and git repositories of application packages. */
export function registryRoutes(ctx: OperatorApiContext, registries: RegistryService) {
  const handle = operatorHandler(ctx)
  return new Elysia({name: 'margo-operator-registries', prefix: OPERATOR_PREFIX})
    .get('/registries', ({request}) => handle(request, () => ({registries: registries.list()})))
    .post('/registries', ({request}) => handle(request, async () => registries.create(await readJson(request, ctx.maxBodyBytes)), 201), {parse: 'none'})
    .get('/registries/:name', ({request, params}) => handle(request, () => registries.show(params.name)))
    .delete('/registries/:name', ({request, params}) => handle(request, () => registries.remove(params.name)))
    .post('/registries/:name/sync', ({request, params}) => handle(request, () => registries.syncNow(params.name)), {parse: 'none'})
}

const error = {$ref: '#/components/responses/Error'}
const nameParam = {name: 'name', in: 'path', required: true, schema: {type: 'string'}}
const json = (schema: object, description = 'OK') => ({description, content: {'application/json': {schema}}})

const SYNC_RESULT = {
  type: 'object',
  required: ['registry', 'startedAt', 'finishedAt', 'appsFound', 'versionsAdded', 'versions', 'errors'],
  properties: {
    registry: {type: 'string'},
    startedAt: {type: 'string', format: 'date-time'},
    finishedAt: {type: 'string', format: 'date-time'},
    appsFound: {type: 'integer'},
    versionsAdded: {type: 'integer'},
    versions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['appId', 'version', 'status', 'location'],
        properties: {
          appId: {type: ['string', 'null']},
          version: {type: ['string', 'null']},
          status: {enum: ['added', 'unchanged', 'conflict', 'invalid']},
          error: {type: 'string'},
          location: {type: 'string', description: '<repository>:<tag> (OCI) or the package folder (git)'},
        },
      },
    },
    errors: {type: 'array', items: {type: 'string'}},
  },
}

const REGISTRY = {
  type: 'object',
  required: ['name', 'kind', 'url', 'repositories', 'hasCredentials', 'intervalSeconds', 'createdAt', 'lastSyncAt', 'lastSync'],
  properties: {
    name: {type: 'string'},
    kind: {enum: ['oci', 'git']},
    url: {type: 'string'},
    ref: {type: 'string', description: 'git branch or tag'},
    repositories: {type: 'array', items: {type: 'string'}, description: 'OCI repositories read; empty: all from /v2/_catalog'},
    hasCredentials: {type: 'boolean', description: 'credentials are kept on the server and never returned'},
    credentialsKind: {enum: ['basic', 'bearer']},
    intervalSeconds: {type: 'integer'},
    createdAt: {type: 'string', format: 'date-time'},
    lastSyncAt: {type: ['string', 'null'], format: 'date-time'},
    lastSync: {oneOf: [SYNC_RESULT, {type: 'null'}]},
  },
}

const CREATE = {
  type: 'object',
  required: ['name', 'kind', 'url'],
  additionalProperties: false,
  properties: {
    name: {type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,62}$'},
    kind: {enum: ['oci', 'git']},
    url: {type: 'string', description: 'OCI: https://host[:port] or host[:port] (http:// only on loopback). git: https://…, file://… or an absolute path'},
    ref: {type: 'string', description: 'git only: branch or tag (default: the remote HEAD)'},
    repositories: {type: 'array', items: {type: 'string'}, description: 'OCI only'},
    username: {type: 'string'},
    password: {type: 'string', writeOnly: true},
    token: {type: 'string', writeOnly: true},
    intervalSeconds: {type: 'integer', minimum: 10, maximum: 604800, default: 3600},
  },
}

/** OpenAPI path objects of the registry routes, merged into the served document. */
export const REGISTRY_OPENAPI_PATHS = {
  '/registries': {
    get: {summary: 'List registries (the last sync without its per-version list)', responses: {'200': json({type: 'object', properties: {registries: {type: 'array', items: REGISTRY}}}), '401': error}},
    post: {
      summary: 'Add an OCI or git registry',
      requestBody: {required: true, content: {'application/json': {schema: CREATE}}},
      responses: {'201': json(REGISTRY, 'Created'), '400': error, '401': error, '409': error, '422': error},
    },
  },
  '/registries/{name}': {
    get: {summary: 'One registry with its last sync result', parameters: [nameParam], responses: {'200': json(REGISTRY), '401': error, '404': error}},
    delete: {summary: 'Remove a registry (the versions it added stay in the catalog)', parameters: [nameParam], responses: {'200': json(REGISTRY), '401': error, '404': error}},
  },
  '/registries/{name}/sync': {
    post: {summary: 'Sync now (joins a sync already running) and answer its result', parameters: [nameParam], responses: {'200': json(SYNC_RESULT), '401': error, '404': error}},
  },
} as const
