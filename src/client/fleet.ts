import type {OperatorClient} from './operator-client.ts'
import type {Deployment, Device, FleetStatus} from './types.ts'

/** What `margo status` shows: the whole fleet, or one device. */
export type StatusReport =
  | {scope: 'fleet'; status: FleetStatus; deployments: Deployment[]}
  | {scope: 'device'; device: Device; deployments: Deployment[]}

export async function statusReport(client: OperatorClient, options: {clientId?: string} = {}): Promise<StatusReport> {
  if (options.clientId) {
    // GET /devices/{id} answers 404 for an unknown device, where a filtered list would be silently empty.
    const {deployments, ...device} = await client.getDevice(options.clientId)
    return {scope: 'device', device, deployments}
  }
  const [status, deployments] = await Promise.all([client.status(), client.listDeployments()])
  return {scope: 'fleet', status, deployments}
}
