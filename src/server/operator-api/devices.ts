import {Elysia} from 'elysia'
import {OPERATOR_PREFIX, auditRequest, deviceVisible, operatorHandler, principalOf, requireVisibleDevice, optionalString, queryString, readJson, type OperatorApiContext} from './context.ts'
import {deleteDevice, rejectDevice, replaceDevice} from '../devices/lifecycle.ts'
import type {RolloutService} from '../rollouts/rollout-service.ts'
import {parseCertificate} from '../../pki/index.ts'
import {badRequest, notFound} from './errors.ts'
import {deploymentJson, deviceJson, inFleet} from './views.ts'
import type {DenyEntry, DenyResult, DeviceReplacement, DeviceWithDeployments} from '../../operator-contract/views.ts'

/** Devices: list, inspect, approve, revoke, pre-register, and the lifecycle: reject, delete, replace. */
export function deviceRoutes(ctx: OperatorApiContext, rollouts: RolloutService) {
  const handle = operatorHandler(ctx)
  const nowIso = () => ctx.now().toISOString()
  const device = (request: Request, clientId: string) => requireVisibleDevice(ctx, request, clientId)
  const setEnrollment = (request: Request, typed: string, enrollment: 'active' | 'revoked') => {
    const {clientId} = device(request, typed)
    // The decision and its audit entry commit together.
    ctx.store.transaction(() => {
      ctx.store.setEnrollment(clientId, enrollment)
      auditRequest(ctx, request, {target: `device:${clientId}`})
    })
    ctx.log.info(enrollment === 'active' ? 'device.approved' : 'device.revoked', {clientId})
    ctx.events.emit({type: 'device.updated', clientId})
    return deviceJson(device(request, clientId))
  }
  return new Elysia({name: 'margo-operator-devices', prefix: OPERATOR_PREFIX})
    // Tombstones are records, not fleet members: listed with ?all=true only.
    .get('/devices', ({request, query}) => handle(request, () => {
      const all = queryString(query.all) === 'true'
      return {devices: ctx.store.listClients().filter(c => (all || inFleet(c)) && deviceVisible(request, c)).map(deviceJson)}
    }))
    .get('/devices/:clientId', ({request, params}) => handle(request, (): DeviceWithDeployments => {
      const d = device(request, params.clientId)
      return {...deviceJson(d), deployments: ctx.store.listDeployments({clientId: d.clientId}).map(x => deploymentJson(ctx.store, x))}
    }))
    .post('/devices/:clientId/approve', ({request, params}) => handle(request, () => setEnrollment(request, params.clientId, 'active')), {parse: 'none'})
    .post('/devices/:clientId/revoke', ({request, params}) => handle(request, () => setEnrollment(request, params.clientId, 'revoked')), {parse: 'none'})
    .post('/devices/:clientId/reject', ({request, params}) => handle(request, () => {
      const {clientId} = device(request, params.clientId)
      const rejected = ctx.store.transaction(() => {
        const c = rejectDevice(ctx, clientId)
        auditRequest(ctx, request, {target: `device:${clientId}`, summary: {fingerprint: c.fingerprint}})
        return c
      })
      ctx.log.info('device.rejected', {clientId})
      ctx.events.emit({type: 'device.updated', clientId})
      return deviceJson(rejected)
    }), {parse: 'none'})
    .delete('/devices/:clientId', ({request, params, query}) => handle(request, () => {
      const {clientId} = device(request, params.clientId)
      const allowReonboard = queryString(query.allowReonboard) === 'true'
      const deleted = ctx.store.transaction(() => {
        const c = deleteDevice(ctx, clientId, {allowReonboard})
        auditRequest(ctx, request, {target: `device:${clientId}`, summary: {fingerprint: c.fingerprint, allowReonboard}})
        return c
      })
      ctx.log.info('device.deleted', {clientId, allowReonboard})
      return deviceJson(deleted)
    }), {parse: 'none'})
    .post('/devices/:clientId/replace', ({request, params}) => handle(request, async (): Promise<DeviceReplacement> => {
      const {clientId: oldId} = device(request, params.clientId)
      const body = await readJson(request, ctx.maxBodyBytes)
      const typed = optionalString(body.newClientId, 'newClientId')
      if (!typed) throw badRequest('the body must be {"newClientId": "<client id of the new device>"}')
      const newId = device(request, typed).clientId
      const actor = principalOf(request)?.name ?? 'operator'
      const r = replaceDevice({...ctx, rollouts}, oldId, newId, {
        actor,
        audit: change => auditRequest(ctx, request, {target: `device:${oldId}`, summary: {replacedBy: newId, rollouts: change.rollouts, labels: change.labels, approved: change.approved}}),
      })
      ctx.log.info('device.replaced', {clientId: oldId, replacedBy: newId, rollouts: r.rollouts.length})
      return {old: deviceJson(r.old), new: deviceJson(r.new), rollouts: r.rollouts, labels: r.labels, approved: r.approved}
    }), {parse: 'none'})
    .post('/devices/preregister', ({request}) => handle(request, async () => {
      const body = await readJson(request, ctx.maxBodyBytes)
      const cert = parseCertificate(optionalString(body.certificate, 'certificate') ?? '')
      if (!cert.ok) throw badRequest(`certificate: ${cert.reason}`)
      ctx.store.transaction(() => {
        ctx.store.addPreregistered(cert.fingerprint, nowIso())
        const existing = ctx.store.getClientByFingerprint(cert.fingerprint)
        if (existing?.enrollment === 'pending') ctx.store.setEnrollment(existing.clientId, 'active')
        auditRequest(ctx, request, {target: `certificate:${cert.fingerprint}`, summary: {fingerprint: cert.fingerprint, approved: existing?.enrollment === 'pending' ? existing.clientId : null}})
      })
      return {fingerprint: cert.fingerprint}
    }, 201), {parse: 'none'})
    // The deny-list: certificates (by fingerprint) or literal values refused at onboarding before any parsing.
    .get('/denylist', ({request}) => handle(request, (): {entries: DenyEntry[]} => ({entries: ctx.store.listDenied()})))
    .post('/denylist', ({request}) => handle(request, async (): Promise<DenyResult> => {
      const body = await readJson(request, ctx.maxBodyBytes)
      const value = optionalString(body.value, 'value')
      const certificate = optionalString(body.certificate, 'certificate')
      if (!value && !certificate) throw badRequest('give "certificate" (PEM or base64) to deny a certificate, or "value" for a fingerprint or a literal value')
      let entry = value!
      if (certificate) {
        const cert = parseCertificate(certificate)
        if (!cert.ok) throw badRequest(`certificate: ${cert.reason}`)
        entry = cert.fingerprint
      }
      const existing = ctx.store.getClientByFingerprint(entry)
      const revoke = existing !== null && existing.enrollment !== 'revoked'
      ctx.store.transaction(() => {
        ctx.store.addDenied(entry, nowIso())
        if (revoke) ctx.store.setEnrollment(existing.clientId, 'revoked')
        auditRequest(ctx, request, {target: `denylist:${entry}`, summary: {value: entry, revokedClientId: revoke ? existing.clientId : null}})
      })
      if (revoke) ctx.events.emit({type: 'device.updated', clientId: existing.clientId})
      ctx.log.info('denylist.added', {value: entry})
      return {value: entry, revokedClientId: existing?.clientId ?? null}
    }, 201), {parse: 'none'})
    .delete('/denylist/:value', ({request, params}) => handle(request, () => {
      const value = decodeURIComponent(params.value)
      if (!ctx.store.listDenied().some(e => e.value === value)) throw notFound('device', `deny-list entry ${value}`, 'run: margo device deny --list')
      ctx.store.removeDenied(value)
      return {value}
    }), {parse: 'none'})
}

const errorRef = {$ref: '#/components/responses/Error'}
export const DENYLIST_OPENAPI_PATHS = {
  '/denylist': {
    get: {summary: 'Deny-list entries (certificate fingerprints or literal values refused at onboarding)', responses: {'200': {description: 'OK'}, '401': errorRef}},
    post: {summary: 'Deny a certificate or a value; a device already using the certificate is revoked',
      requestBody: {content: {'application/json': {schema: {type: 'object', properties: {certificate: {type: 'string'}, value: {type: 'string'}}}}}},
      responses: {'201': {description: 'Added'}, '400': errorRef, '401': errorRef}},
  },
  '/denylist/{value}': {delete: {summary: 'Remove a deny-list entry', parameters: [{name: 'value', in: 'path', required: true, schema: {type: 'string'}}], responses: {'200': {description: 'Removed'}, '404': errorRef}}},
}
