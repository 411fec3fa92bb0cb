import type {OperatorClient} from './operator-client.ts'
import type {Device, DeviceReplacement} from '../operator-contract/views.ts'

/** Device lifecycle past approve and revoke (docs/security.md). */

const enc = encodeURIComponent

export const rejectDevice = (client: OperatorClient, clientId: string) =>
  client.call<Device>('POST', `/devices/${enc(clientId)}/reject`, {clientId, inputHint: 'only a pending device can be rejected (see: margo device list)'})

export const deleteDevice = (client: OperatorClient, clientId: string, options: {allowReonboard?: boolean} = {}) =>
  client.call<Device>('DELETE', `/devices/${enc(clientId)}`, {clientId, query: {allowReonboard: options.allowReonboard ? 'true' : undefined}})

export const replaceDevice = (client: OperatorClient, oldClientId: string, newClientId: string) =>
  client.call<DeviceReplacement>('POST', `/devices/${enc(oldClientId)}/replace`, {clientId: oldClientId, body: {newClientId}})
