import {Elysia} from 'elysia'
import {OPERATOR_PREFIX, operatorHandler, optionalObject, optionalString, queryString, readJson, type OperatorApiContext} from './context.ts'
import type {DeploymentService} from '../deployments/deployment-service.ts'
import {badRequest, notFound} from './errors.ts'
import {deploymentJson} from './views.ts'
import {resolveId} from './ids.ts'

/** Deployments of an app to a device: create, inspect, update in place, delete. */
export function deploymentRoutes(ctx: OperatorApiContext, deployments: DeploymentService) {
  const handle = operatorHandler(ctx)
  const deploymentId = (typed: string) => resolveId(ctx.store, 'deployment', typed)
  return new Elysia({name: 'margo-operator-deployments', prefix: OPERATOR_PREFIX})
    .get('/deployments', ({request, query}) => handle(request, () => {
      const typed = queryString(query.clientId)
      const clientId = typed && resolveId(ctx.store, 'device', typed)
      const appId = queryString(query.appId)
      return {deployments: ctx.store.listDeployments({clientId, appId}).map(d => deploymentJson(ctx.store, d))}
    }))
    .post('/deployments', ({request}) => handle(request, async () => {
      const body = await readJson(request, ctx.maxBodyBytes)
      const appId = optionalString(body.appId, 'appId')
      const clientId = optionalString(body.clientId, 'clientId')
      if (!appId || !clientId) throw badRequest('appId and clientId are required')
      const d = deployments.create({
        appId,
        clientId: resolveId(ctx.store, 'device', clientId),
        version: optionalString(body.version, 'version'),
        profile: optionalString(body.profile, 'profile'),
        values: optionalObject(body.values, 'values'),
      })
      ctx.log.info('deployment.created', {deploymentId: d.deploymentId, clientId: d.clientId, appId, version: d.appVersion})
      return deploymentJson(ctx.store, d)
    }, 201), {parse: 'none'})
    .get('/deployments/:deploymentId', ({request, params}) => handle(request, () => {
      const d = ctx.store.getDeployment(deploymentId(params.deploymentId))
      if (!d) throw notFound('deployment', params.deploymentId, 'run: margo status')
      return deploymentJson(ctx.store, d, true)
    }))
    .patch('/deployments/:deploymentId', ({request, params}) => handle(request, async () => {
      const body = await readJson(request, ctx.maxBodyBytes)
      const d = deployments.update(deploymentId(params.deploymentId), {
        version: optionalString(body.version, 'version'),
        values: optionalObject(body.values, 'values'),
      })
      ctx.log.info('deployment.updated', {deploymentId: d.deploymentId, digest: d.digest})
      return deploymentJson(ctx.store, d)
    }), {parse: 'none'})
    .delete('/deployments/:deploymentId', ({request, params}) => handle(request, () => {
      const d = deployments.remove(deploymentId(params.deploymentId))
      ctx.log.info('deployment.deleted', {deploymentId: d.deploymentId})
      return deploymentJson(ctx.store, d)
    }), {parse: 'none'})
}
