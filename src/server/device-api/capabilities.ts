import {parseCapabilities} from '../../margo/capabilities.ts'
import {authenticateClient} from './auth.ts'
import type {DeviceApiContext} from './context.ts'
import {parseJson, problemResponse} from './http.ts'

/**
 * E3/E4: capabilities, write-only. POST (first report) and PUT (update) behave the same and
 * both answer 201 with no body; the raw JSON is stored as received.
 */
export async function reportCapabilities(ctx: DeviceApiContext, request: Request, body: Uint8Array, clientId: string): Promise<Response> {
  const auth = await authenticateClient(ctx, request, body, clientId)
  if (!auth.ok) return auth.response
  const json = parseJson(body)
  if (json === undefined) {
    return problemResponse('semantic-error', 'The body is not JSON: send a DeviceCapabilitiesManifest.', {errors: [{field: '', message: 'body is not valid JSON'}]})
  }
  const parsed = parseCapabilities(json)
  if (!parsed.ok) {
    return problemResponse('semantic-error', `Invalid DeviceCapabilitiesManifest: ${parsed.errors.map(e => `${e.field}: ${e.message}`).join('; ')}`, {errors: parsed.errors})
  }
  ctx.store.setCapabilities(clientId, new TextDecoder().decode(body), ctx.now().toISOString())
  ctx.log.info('device.capabilities', {clientId, method: request.method, deviceId: parsed.value.deviceId})
  ctx.events.emit({type: 'device.updated', clientId})
  return new Response(null, {status: 201})
}
