import {Elysia} from 'elysia'
import {PROBLEM_MEDIA_TYPE} from '../../margo/media-types.ts'
import {reportCapabilities} from './capabilities.ts'
import type {DeviceApiContext} from './context.ts'
import {getBundle, getDeploymentYaml, getManifest} from './desired-state.ts'
import {BodyTooLarge, ClientAborted, readBody} from './http.ts'
import {onboard, rootCertificate} from './onboarding.ts'
import {reportStatus} from './status.ts'
import {requestIdOf} from '../request-id.ts'

const plainProblem = (status: number, title: string, detail: string) =>
  new Response(JSON.stringify({type: 'about:blank', title, status, detail}), {status, headers: {'content-type': PROBLEM_MEDIA_TYPE}})

/**
 * The Margo device interface: exactly the endpoints of the specification (E1–E8), under
 * `<basePath>/api/v1`. Nothing product-specific lives here.
 */
export function deviceApi(ctx: DeviceApiContext) {
  /**
   * Every answer carries `x-request-id` (the device's own when it sent a plain one), as the
   * operator API's do: a standard header, no new endpoint or field (docs/device-interface.md).
   */
  const guarded = async (request: Request, work: () => Promise<Response> | Response): Promise<Response> => {
    const requestId = requestIdOf(request)
    const response = await answer(requestId, work)
    response.headers.set('x-request-id', requestId)
    return response
  }
  const answer = async (requestId: string, work: () => Promise<Response> | Response): Promise<Response> => {
    try {
      return await work()
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        return plainProblem(413, 'Content Too Large', `The request body exceeds the limit of ${err.limit} bytes.`)
      }
      if (err instanceof ClientAborted) {
        // Flaky device networks do this; it is worth a trace, not an alert.
        ctx.log.info('device_api.client_aborted', {method: err.method, path: err.path, receivedBytes: err.received, requestId})
        return plainProblem(400, 'Bad Request', 'The request body was incomplete.')
      }
      ctx.log.error('device_api.failure', {error: err instanceof Error ? err.message : String(err), requestId})
      return plainProblem(500, 'Internal Server Error', 'The server failed to handle the request; it has been logged.')
    }
  }
  const body = (request: Request) => readBody(request, ctx.config.maxBodyBytes)
  // A status report names components with a state each; more only fills the timeline.
  const statusBody = (request: Request) => readBody(request, Math.min(ctx.config.maxBodyBytes, ctx.config.maxStatusReportBytes))

  return new Elysia({name: 'margo-device-api', prefix: `${ctx.config.basePath}/api/v1`})
    .get('/onboarding/certificate', ({request}) => guarded(request, () => rootCertificate(ctx)))
    .post('/onboarding', ({request}) => guarded(request, async () => onboard(ctx, request, await body(request))), {parse: 'none'})
    .post('/clients/:clientId/capabilities', ({request, params}) =>
      guarded(request, async () => reportCapabilities(ctx, request, await body(request), params.clientId)), {parse: 'none'})
    .put('/clients/:clientId/capabilities', ({request, params}) =>
      guarded(request, async () => reportCapabilities(ctx, request, await body(request), params.clientId)), {parse: 'none'})
    .get('/clients/:clientId/deployments', ({request, params}) => guarded(request, () => getManifest(ctx, request, params.clientId)))
    .get('/clients/:clientId/deployments/:deploymentId/:digest', ({request, params}) =>
      guarded(request, () => getDeploymentYaml(ctx, request, params.clientId, params.deploymentId, params.digest)))
    .get('/clients/:clientId/bundles/:digest', ({request, params}) => guarded(request, () => getBundle(ctx, request, params.clientId, params.digest)))
    .post('/clients/:clientId/deployments/:deploymentId/status', ({request, params}) =>
      guarded(request, async () => reportStatus(ctx, request, await statusBody(request), params.clientId, params.deploymentId)), {parse: 'none'})
}
