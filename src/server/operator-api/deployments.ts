import {Elysia} from 'elysia'
import {OPERATOR_PREFIX, deviceVisible, idVisibility, operatorHandler, principalOf, requireVisibleDevice, optionalObject, optionalString, queryString, readJson, type OperatorApiContext} from './context.ts'
import type {DeploymentService} from '../deployments/deployment-service.ts'
import type {RolloutService} from '../rollouts/rollout-service.ts'
import {rolloutOfDeployment} from '../store/rollouts-repo.ts'
import {badRequest, notFound} from './errors.ts'
import {deploymentJson, inFleet} from './views.ts'
import {resolveId} from './ids.ts'

/** Deployments of an app to a device: create, inspect, update in place, delete. */
export function deploymentRoutes(ctx: OperatorApiContext, deployments: DeploymentService, rollouts: RolloutService) {
  const handle = operatorHandler(ctx)
  const deploymentId = (request: Request, typed: string) => resolveId(ctx.store, 'deployment', typed, idVisibility(ctx, request))
  const visible = (request: Request, clientId: string) => {
    const c = ctx.store.getClient(clientId)
    return c !== null && deviceVisible(request, c)
  }
  /** A deployment on a device outside the caller's scope answers the same 404 as a missing one. */
  const visibleDeployment = (request: Request, typed: string) => {
    const d = ctx.store.getDeployment(deploymentId(request, typed))
    if (!d || !visible(request, d.clientId)) throw notFound('deployment', typed, 'run: margo status')
    return d
  }
  return new Elysia({name: 'margo-operator-deployments', prefix: OPERATOR_PREFIX})
    .get('/deployments', ({request, query}) => handle(request, () => {
      const typed = queryString(query.clientId)
      const clientId = typed && resolveId(ctx.store, 'device', typed, idVisibility(ctx, request))
      const appId = queryString(query.appId)
      // Deployments of deleted and replaced devices have left the fleet view (GET /deployments/{id} still shows one).
      const fleet = new Set(ctx.store.listClients().filter(inFleet).map(c => c.clientId))
      return {deployments: ctx.store.listDeployments({clientId, appId}).filter(d => (clientId || fleet.has(d.clientId)) && visible(request, d.clientId)).map(d => deploymentJson(ctx.store, d))}
    }))
    .post('/deployments', ({request}) => handle(request, async () => {
      const body = await readJson(request, ctx.maxBodyBytes)
      const appId = optionalString(body.appId, 'appId')
      const clientId = optionalString(body.clientId, 'clientId')
      if (!appId || !clientId) throw badRequest('appId and clientId are required')
      const d = deployments.create({
        appId,
        clientId: requireVisibleDevice(ctx, request, clientId).clientId,
        version: optionalString(body.version, 'version'),
        profile: optionalString(body.profile, 'profile'),
        values: optionalObject(body.values, 'values'),
      })
      ctx.log.info('deployment.created', {deploymentId: d.deploymentId, clientId: d.clientId, appId, version: d.appVersion})
      return deploymentJson(ctx.store, d)
    }, 201), {parse: 'none'})
    .get('/deployments/:deploymentId', ({request, params}) => handle(request, () => {
      return deploymentJson(ctx.store, visibleDeployment(request, params.deploymentId), true)
    }))
    .patch('/deployments/:deploymentId', ({request, params}) => handle(request, async () => {
      const {deploymentId: id} = visibleDeployment(request, params.deploymentId)
      const body = await readJson(request, ctx.maxBodyBytes)
      const d = deployments.update(id, {
        version: optionalString(body.version, 'version'),
        values: optionalObject(body.values, 'values'),
      })
      ctx.log.info('deployment.updated', {deploymentId: d.deploymentId, digest: d.digest})
      return deploymentJson(ctx.store, d)
    }), {parse: 'none'})
    .delete('/deployments/:deploymentId', ({request, params, query}) => handle(request, () => {
      // A rollout's deployment goes by changing the rollout's target; forgetting is a
      // removal the device never confirmed, which applies to any deployment.
      const forget = queryString(query.forget) === 'true'
      const id = visibleDeployment(request, params.deploymentId).deploymentId
      const d = forget || rolloutOfDeployment(ctx.store, id)
        ? rollouts.removeDeployment(id, {forget, actor: principalOf(request)?.name ?? 'operator'})
        : deployments.remove(id)
      ctx.log.info('deployment.deleted', {deploymentId: d.deploymentId, forgotten: Boolean(d.forgottenAt)})
      return deploymentJson(ctx.store, d)
    }), {parse: 'none'})
}
