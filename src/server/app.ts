import {Elysia} from 'elysia'
import {PROBLEM_MEDIA_TYPE} from '../margo/media-types.ts'
import {deviceApi} from './device-api/index.ts'
import type {DeviceApiContext} from './device-api/context.ts'
import {downloadRoutes} from './downloads/routes.ts'
import {OPERATOR_PREFIX, operatorApi, type OperatorApiContext} from './operator-api/index.ts'
import {createServices, type Services} from './services.ts'
import {caFingerprint} from './tls-material.ts'

/** Putting the agent on devices: where release executables live. */
export interface InstallerOptions {
  releaseDir?: string
  /** Told of every answered request (the server's metrics). */
  observe?: RequestObserver
}

/** Called once per answered request with its route template (never the path: it holds ids). */
export type RequestObserver = (r: {method: string, route: string, status: number, seconds: number}) => void

const started = new WeakMap<Request, number>()

function withObserver(app: Elysia, observe: RequestObserver | undefined): Elysia {
  if (!observe) return app
  return app
    .onRequest(({request}) => { started.set(request, performance.now()) })
    .onAfterResponse({as: 'global'}, ({request, route, set, responseValue}) => {
      const t0 = started.get(request)
      const status = responseValue instanceof Response ? responseValue.status : typeof set.status === 'number' ? set.status : 200
      observe({method: request.method, route: route || 'unmatched', status, seconds: t0 === undefined ? 0 : (performance.now() - t0) / 1000})
    })
}

/**
 * The whole HTTP surface: the Margo device interface and the operator API side by side, each
 * with its own errors, and the agent's downloads beside them. Tests drive it with `app.handle(new Request(...))`. `services` are built
 * from the operator context unless the caller shares its own (serve does, with its background jobs).
 */
export function createServerApp(device: DeviceApiContext, operator: OperatorApiContext, services: Services = createServices(operator), installer: InstallerOptions = {}) {
  // The operator API tells enroll commands the CA devices pin: the one the device interface serves.
  operator.caFingerprint ??= caFingerprint(device.caCertificatePem)
  return withObserver(new Elysia(), installer.observe)
    .use(deviceApi(device))
    .use(operatorApi(operator, services))
    .use(downloadRoutes({releaseDir: installer.releaseDir, caCertificatePem: device.caCertificatePem}))
    .onError(({code, request}) => {
      const path = new URL(request.url).pathname
      if (path.startsWith(OPERATOR_PREFIX)) {
        const status = code === 'NOT_FOUND' ? 404 : code === 'PARSE' || code === 'VALIDATION' ? 400 : 500
        return Response.json({error: {code: status === 404 ? 'not_found' : status === 400 ? 'bad_request' : 'internal', message: `${request.method} ${path}: ${status === 404 ? 'no such endpoint' : 'request failed'}`}}, {status})
      }
      const status = code === 'NOT_FOUND' ? 404 : code === 'PARSE' || code === 'VALIDATION' ? 400 : 500
      const title = status === 404 ? 'Not Found' : status === 400 ? 'Bad Request' : 'Internal Server Error'
      return new Response(JSON.stringify({type: 'about:blank', title, status, detail: `${request.method} ${path}`}), {status, headers: {'content-type': PROBLEM_MEDIA_TYPE}})
    })
}
