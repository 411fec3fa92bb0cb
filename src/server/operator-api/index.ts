import {Elysia} from 'elysia'
import {timingSafeEqual} from 'node:crypto'
import {parseCertificate} from '../../pki/index.ts'
import {findAppVersion, publishApp} from '../catalog/catalog-service.ts'
import {createDeployment, deleteDeployment, updateDeployment} from '../deployments/deployment-service.ts'
import type {EventBus} from '../events.ts'
import type {Store} from '../store/store.ts'
import type {Logger} from '../../util/log.ts'
import {OperatorError, badRequest, notFound} from './errors.ts'
import {OPERATOR_OPENAPI} from './openapi.ts'
import {appJson, deploymentJson, deviceJson} from './views.ts'

export const OPERATOR_PREFIX = '/operator/v1'

export interface OperatorApiContext {
  store: Store
  events: EventBus
  log: Logger
  token: string
  version: string
  enrollment: string
  deviceApiUrl: string
  maxBodyBytes: number
  startedAt: Date
  now: () => Date
}

function tokenMatches(header: string | null, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '')
  if (!m) return false
  const given = Buffer.from(m[1]!.trim())
  const want = Buffer.from(token)
  return given.length === want.length && timingSafeEqual(given, want)
}

async function readJson(request: Request, limit: number): Promise<Record<string, unknown>> {
  const bytes = new Uint8Array(await request.arrayBuffer())
  if (bytes.length > limit) throw new OperatorError(413, 'payload_too_large', `the body exceeds ${limit} bytes`)
  if (bytes.length === 0) return {}
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes))
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object')
    return v as Record<string, unknown>
  } catch {
    throw badRequest('the body must be a JSON object')
  }
}

const optionalString = (v: unknown, field: string): string | undefined => {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string' || v === '') throw badRequest(`${field} must be a non-empty string`)
  return v
}

const optionalObject = (v: unknown, field: string): Record<string, unknown> | undefined => {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${field} must be an object`)
  return v as Record<string, unknown>
}

/**
 * margo's own operator interface (docs/operator-api.md): bearer-token auth, JSON, its own
 * error shape. It never shares routes or auth with the device interface.
 */
export function operatorApi(ctx: OperatorApiContext) {
  const nowIso = () => ctx.now().toISOString()
  const handle = async (request: Request, work: () => unknown | Promise<unknown>, status = 200): Promise<Response> => {
    try {
      if (!tokenMatches(request.headers.get('authorization'), ctx.token)) {
        throw new OperatorError(401, 'unauthorized', 'missing or wrong operator token — pass --token, set MARGO_TOKEN, or run on the server with --data-dir')
      }
      const result = await work()
      if (result instanceof Response) return result
      return Response.json(result, {status})
    } catch (err) {
      if (err instanceof OperatorError) return err.toResponse()
      ctx.log.error('operator_api.failure', {error: err instanceof Error ? err.message : String(err)})
      return new OperatorError(500, 'internal', 'the server failed to handle the request; see the server log').toResponse()
    }
  }
  const device = (clientId: string) => {
    const c = ctx.store.getClient(clientId)
    if (!c) throw notFound('device', clientId, 'run: margo device list')
    return c
  }
  const setEnrollment = (clientId: string, enrollment: 'active' | 'revoked') => {
    device(clientId)
    ctx.store.setEnrollment(clientId, enrollment)
    ctx.log.info(enrollment === 'active' ? 'device.approved' : 'device.revoked', {clientId})
    ctx.events.emit({type: 'device.updated', clientId})
    return deviceJson(device(clientId))
  }

  return new Elysia({name: 'margo-operator-api', prefix: OPERATOR_PREFIX})
    .get('/openapi.json', () => Response.json(OPERATOR_OPENAPI))
    .get('/health', ({request}) => handle(request, () => ({
      version: ctx.version,
      uptimeSeconds: Math.round((ctx.now().getTime() - ctx.startedAt.getTime()) / 1000),
      enrollment: ctx.enrollment,
      deviceApiUrl: ctx.deviceApiUrl,
    })))
    .get('/devices', ({request}) => handle(request, () => ({devices: ctx.store.listClients().map(deviceJson)})))
    .get('/devices/:clientId', ({request, params}) => handle(request, () => ({
      ...deviceJson(device(params.clientId)),
      deployments: ctx.store.listDeployments({clientId: params.clientId}).map(d => deploymentJson(ctx.store, d)),
    })))
    .post('/devices/:clientId/approve', ({request, params}) => handle(request, () => setEnrollment(params.clientId, 'active')), {parse: 'none'})
    .post('/devices/:clientId/revoke', ({request, params}) => handle(request, () => setEnrollment(params.clientId, 'revoked')), {parse: 'none'})
    .post('/devices/preregister', ({request}) => handle(request, async () => {
      const body = await readJson(request, ctx.maxBodyBytes)
      const cert = parseCertificate(optionalString(body.certificate, 'certificate') ?? '')
      if (!cert.ok) throw badRequest(`certificate: ${cert.reason}`)
      ctx.store.addPreregistered(cert.fingerprint, nowIso())
      const existing = ctx.store.getClientByFingerprint(cert.fingerprint)
      if (existing?.enrollment === 'pending') ctx.store.setEnrollment(existing.clientId, 'active')
      return {fingerprint: cert.fingerprint}
    }, 201), {parse: 'none'})
    .get('/apps', ({request}) => handle(request, () => {
      const ids = [...new Set(ctx.store.listAppVersions().map(v => v.appId))]
      return {apps: ids.map(id => appJson(ctx.store, id, undefined, false))}
    }))
    .get('/apps/:appId', ({request, params, query}) => handle(request, () => {
      const version = typeof query.version === 'string' && query.version ? query.version : undefined
      findAppVersion(ctx.store, params.appId, version)
      return appJson(ctx.store, params.appId, version)
    }))
    .post('/apps', ({request}) => handle(request, async () => {
      const bytes = new Uint8Array(await request.arrayBuffer())
      if (bytes.length > ctx.maxBodyBytes) throw new OperatorError(413, 'payload_too_large', `the package exceeds ${ctx.maxBodyBytes} bytes`)
      if (bytes.length === 0) throw badRequest('send a margo.yaml (application/yaml) or a package .tar.gz (application/gzip)')
      const result = await publishApp(ctx.store, ctx.events, {bytes}, nowIso())
      return Response.json(appJson(ctx.store, result.record.appId, result.record.version), {status: result.created ? 201 : 200})
    }), {parse: 'none'})
    .get('/deployments', ({request, query}) => handle(request, () => {
      const clientId = typeof query.clientId === 'string' && query.clientId ? query.clientId : undefined
      const appId = typeof query.appId === 'string' && query.appId ? query.appId : undefined
      return {deployments: ctx.store.listDeployments({clientId, appId}).map(d => deploymentJson(ctx.store, d))}
    }))
    .post('/deployments', ({request}) => handle(request, async () => {
      const body = await readJson(request, ctx.maxBodyBytes)
      const appId = optionalString(body.appId, 'appId')
      const clientId = optionalString(body.clientId, 'clientId')
      if (!appId || !clientId) throw badRequest('appId and clientId are required')
      const d = createDeployment(ctx.store, ctx.events, {
        appId, clientId,
        version: optionalString(body.version, 'version'),
        profile: optionalString(body.profile, 'profile'),
        values: optionalObject(body.values, 'values'),
      }, nowIso())
      ctx.log.info('deployment.created', {deploymentId: d.deploymentId, clientId, appId, version: d.appVersion})
      return deploymentJson(ctx.store, d)
    }, 201), {parse: 'none'})
    .get('/deployments/:deploymentId', ({request, params}) => handle(request, () => {
      const d = ctx.store.getDeployment(params.deploymentId)
      if (!d) throw notFound('deployment', params.deploymentId, 'run: margo status')
      return deploymentJson(ctx.store, d, true)
    }))
    .patch('/deployments/:deploymentId', ({request, params}) => handle(request, async () => {
      const body = await readJson(request, ctx.maxBodyBytes)
      const d = updateDeployment(ctx.store, ctx.events, params.deploymentId, {
        version: optionalString(body.version, 'version'),
        values: optionalObject(body.values, 'values'),
      }, nowIso())
      ctx.log.info('deployment.updated', {deploymentId: d.deploymentId, digest: d.digest})
      return deploymentJson(ctx.store, d)
    }), {parse: 'none'})
    .delete('/deployments/:deploymentId', ({request, params}) => handle(request, () => {
      const d = deleteDeployment(ctx.store, ctx.events, params.deploymentId, nowIso())
      ctx.log.info('deployment.deleted', {deploymentId: d.deploymentId})
      return deploymentJson(ctx.store, d)
    }), {parse: 'none'})
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
