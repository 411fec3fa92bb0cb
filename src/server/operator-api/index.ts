import {Elysia} from 'elysia'
import {appRoutes} from './apps.ts'
import {OPERATOR_PREFIX, operatorHandler, type OperatorApiContext} from './context.ts'
import {deploymentRoutes} from './deployments.ts'
import {deviceRoutes} from './devices.ts'
import {eventRoutes} from './events.ts'
import {fleetRoutes} from './fleet.ts'
import {registryRoutes} from './registries.ts'
import {OPERATOR_OPENAPI} from './openapi.ts'
import {statusRoutes} from './status.ts'

export {OPERATOR_PREFIX, type OperatorApiContext}

/**
 * margo's own operator interface (docs/operator-api.md): bearer-token auth, JSON, its own
 * error shape. It never shares routes or auth with the device interface. One plugin per
 * resource; each runs its routes through `operatorHandler`.
 */
export function operatorApi(ctx: OperatorApiContext) {
  const handle = operatorHandler(ctx)
  return new Elysia({name: 'margo-operator-api'})
    .get(`${OPERATOR_PREFIX}/openapi.json`, () => Response.json(OPERATOR_OPENAPI))
    .get(`${OPERATOR_PREFIX}/health`, ({request}) => handle(request, () => ({
      version: ctx.version,
      uptimeSeconds: Math.round((ctx.now().getTime() - ctx.startedAt.getTime()) / 1000),
      enrollment: ctx.enrollment,
      deviceApiUrl: ctx.deviceApiUrl,
    })))
    .use(deviceRoutes(ctx))
    .use(appRoutes(ctx))
    .use(deploymentRoutes(ctx))
    .use(statusRoutes(ctx))
    .use(fleetRoutes(ctx))
    .use(registryRoutes(ctx))
    .use(eventRoutes(ctx))
}
