import {Elysia} from 'elysia'
import {OPERATOR_PREFIX, operatorHandler, queryString, type OperatorApiContext} from './context.ts'
import type {CatalogService} from '../catalog/catalog-service.ts'
import {OperatorError, badRequest} from './errors.ts'
import {appJson} from './views.ts'

/** The application catalog: list, show, publish. */
export function appRoutes(ctx: OperatorApiContext, catalog: CatalogService) {
  const handle = operatorHandler(ctx)
  return new Elysia({name: 'margo-operator-apps', prefix: OPERATOR_PREFIX})
    .get('/apps', ({request}) => handle(request, () => {
      const ids = [...new Set(ctx.store.listAppVersions().map(v => v.appId))]
      return {apps: ids.map(id => appJson(ctx.store, id, undefined, false))}
    }))
    .get('/apps/:appId', ({request, params, query}) => handle(request, () => {
      const version = queryString(query.version)
      catalog.find(params.appId, version)
      return appJson(ctx.store, params.appId, version)
    }))
    .post('/apps', ({request}) => handle(request, async () => {
      const bytes = new Uint8Array(await request.arrayBuffer())
      if (bytes.length > ctx.maxBodyBytes) throw new OperatorError(413, 'payload_too_large', `the package exceeds ${ctx.maxBodyBytes} bytes`)
      if (bytes.length === 0) throw badRequest('send a margo.yaml (application/yaml) or a package .tar.gz (application/gzip)')
      const result = await catalog.publish({bytes})
      return Response.json(appJson(ctx.store, result.record.appId, result.record.version), {status: result.created ? 201 : 200})
    }), {parse: 'none'})
}
