import {Elysia} from 'elysia'
import {OPERATOR_PREFIX, operatorHandler, optionalObject, optionalString, queryString, readJson, type OperatorApiContext} from './context.ts'

/** Fleet overview. */
export function statusRoutes(ctx: OperatorApiContext) {
  const handle = operatorHandler(ctx)
  return new Elysia({name: 'margo-operator-status', prefix: OPERATOR_PREFIX})
    .get('/status', ({request}) => handle(request, () => {
      const clients = ctx.store.listClients()
      const deployments = ctx.store.listDeployments({desired: 'present'})
      const byState: Record<string, number> = {}
      for (const d of deployments) {
        const state = ctx.store.latestStatus(d.deploymentId)?.state ?? 'unreported'
        byState[state] = (byState[state] ?? 0) + 1
      }
      const count = (e: string) => clients.filter(c => c.enrollment === e).length
      return {
        devices: {total: clients.length, active: count('active'), pending: count('pending'), revoked: count('revoked')},
        deployments: {total: deployments.length, byState},
      }
    }))
}
