import {Elysia} from 'elysia'
import {appRoutes} from './apps.ts'
import {OPERATOR_PREFIX, operatorHandler, type OperatorApiContext} from './context.ts'
import {toOperatorError} from './errors.ts'
import {deploymentRoutes} from './deployments.ts'
import {DENYLIST_OPENAPI_PATHS, deviceRoutes} from './devices.ts'
import {eventRoutes} from './events.ts'
import {FLEET_OPENAPI_PATHS, fleetRoutes} from './fleet.ts'
import {REGISTRY_OPENAPI_PATHS, registryRoutes} from './registries.ts'
import {OPERATOR_OPENAPI} from './openapi.ts'
import {IDS_OPENAPI_PATHS, idRoutes} from './ids-routes.ts'
import {ACCESS_OPENAPI_PATHS, accessRoutes} from './access.ts'
import {JOIN_TOKEN_OPENAPI_PATHS, joinTokenRoutes} from './join-tokens.ts'
import {authorizeRequest} from './guard.ts'
import {ensureBootstrapToken} from '../access/tokens.ts'
import {createServices, type Services} from '../services.ts'
import {STATUS_OPENAPI_PATHS, statusRoutes} from './status.ts'
import {SECRETS_OPENAPI_PATHS, secretRoutes} from './secrets.ts'
import type {EnrollmentMode, Health} from '../../operator-contract/views.ts'
import {EXPOSITION_CONTENT_TYPE} from '../../util/metrics.ts'

export {OPERATOR_PREFIX, type OperatorApiContext}

const EVENTS_OPENAPI_PATHS = {
  '/events': {get: {summary: 'Server-sent events: every change to devices, deployments, manifests and apps (text/event-stream; ?types= filters)',
    parameters: [{name: 'types', in: 'query', schema: {type: 'string'}}], responses: {'200': {description: 'An event stream', content: {'text/event-stream': {schema: {type: 'string'}}}}}}},
}

/** The served OpenAPI document: the core resources plus each feature's own paths. */
export const OPERATOR_OPENAPI_DOCUMENT = {
  ...OPERATOR_OPENAPI,
  paths: {...OPERATOR_OPENAPI.paths, ...STATUS_OPENAPI_PATHS, ...DENYLIST_OPENAPI_PATHS, ...FLEET_OPENAPI_PATHS, ...REGISTRY_OPENAPI_PATHS, ...EVENTS_OPENAPI_PATHS, ...IDS_OPENAPI_PATHS, ...ACCESS_OPENAPI_PATHS, ...JOIN_TOKEN_OPENAPI_PATHS, ...SECRETS_OPENAPI_PATHS},
}

/**
 * margo's own operator interface (docs/operator-api.md): bearer tokens with roles and scopes, JSON, its own
 * error shape. It never shares routes or auth with the device interface. One plugin per
 * resource; each runs its routes through `operatorHandler`. Catalog, deployment, rollout and
 * registry routes only translate HTTP: the work is their service's.
 */
export function operatorApi(ctx: OperatorApiContext, services: Services = createServices(ctx)) {
  const handle = operatorHandler(ctx)
  // The data dir's token keeps working, as the admin token `bootstrap`.
  if (ctx.token) ensureBootstrapToken(ctx.store, ctx.token, ctx.now())
  return new Elysia({name: 'margo-operator-api'})
    // Every route below, whichever plugin declares it, is authorized here first (src/server/access/permissions.ts).
    .onBeforeHandle({as: 'global'}, ({request, route}) => {
      if (!route.startsWith(OPERATOR_PREFIX)) return
      try {
        authorizeRequest(ctx, request, OPERATOR_PREFIX, route)
      } catch (err) {
        return toOperatorError(err)?.toResponse()
      }
    })
    .get(`${OPERATOR_PREFIX}/openapi.json`, () => Response.json(OPERATOR_OPENAPI_DOCUMENT))
    .get(`${OPERATOR_PREFIX}/health`, ({request}) => handle(request, (): Health => ({
      version: ctx.version,
      uptimeSeconds: Math.round((ctx.now().getTime() - ctx.startedAt.getTime()) / 1000),
      // `margo serve` accepts only these modes; the context's field is a plain string.
      enrollment: ctx.enrollment as EnrollmentMode,
      deviceApiUrl: ctx.deviceApiUrl,
      caFingerprint: ctx.caFingerprint ?? null,
    })))
    .get(`${OPERATOR_PREFIX}/metrics`, ({request}) => handle(request, () =>
      new Response(ctx.metrics?.() ?? '', {headers: {'content-type': EXPOSITION_CONTENT_TYPE}})))
    .use(deviceRoutes(ctx, services.rollouts))
    .use(appRoutes(ctx, services.catalog))
    .use(deploymentRoutes(ctx, services.deployments, services.rollouts))
    .use(statusRoutes(ctx))
    .use(fleetRoutes(ctx, services.rollouts, services.windows))
    .use(registryRoutes(ctx, services.registries))
    .use(eventRoutes(ctx))
    .use(idRoutes(ctx))
    .use(accessRoutes(ctx))
    .use(joinTokenRoutes(ctx))
    .use(secretRoutes(ctx, services.secrets))
}
