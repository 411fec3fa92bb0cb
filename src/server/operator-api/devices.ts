import {Elysia} from 'elysia'
import {OPERATOR_PREFIX, operatorHandler, optionalObject, optionalString, queryString, readJson, type OperatorApiContext} from './context.ts'
import {parseCertificate} from '../../pki/index.ts'
import {badRequest, notFound} from './errors.ts'
import {deploymentJson, deviceJson} from './views.ts'

/** Devices: list, inspect, approve, revoke, pre-register. */
export function deviceRoutes(ctx: OperatorApiContext) {
  const handle = operatorHandler(ctx)
  const nowIso = () => ctx.now().toISOString()
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
  return new Elysia({name: 'margo-operator-devices', prefix: OPERATOR_PREFIX})
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
}
