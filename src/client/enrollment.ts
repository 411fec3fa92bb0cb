/**
 * Enrollment decisions from the operator's side: approving devices one by one or every pending
 * device a selector picks, and join tokens that admit devices without a decision per device.
 */
import type {CreatedJoinToken, Device, JoinTokenInfo} from '../operator-contract/views.ts'
import {parseLabelArguments} from '../operator-contract/labels.ts'
import {describeSelectorError, matchesSelector, parseSelector} from '../operator-contract/selector.ts'
import {UsageError} from '../util/errors.ts'
import type {OperatorClient} from './operator-client.ts'

export interface ApproveOptions {
  clientIds: readonly string[]
  allPending?: boolean
  /** With allPending: only pending devices whose labels match. */
  selector?: string
}

/** Which devices an approval names: the ids given, or every pending device the selector picks. Pure. */
export function devicesToApprove(devices: readonly Device[], options: ApproveOptions): string[] {
  if (options.allPending && options.clientIds.length > 0) throw new UsageError('give client ids or --all-pending, not both')
  if (options.selector !== undefined && !options.allPending) throw new UsageError('--selector picks among pending devices: use it with --all-pending')
  if (!options.allPending) {
    if (options.clientIds.length === 0) throw new UsageError('name the devices to approve (margo device list shows pending ones first), or use --all-pending [--selector …]')
    return [...new Set(options.clientIds)]
  }
  let pending = devices.filter(d => d.enrollment === 'pending')
  if (options.selector !== undefined) {
    const parsed = parseSelector(options.selector)
    if (!parsed.ok) throw new UsageError(`--selector ${JSON.stringify(options.selector)}: ${describeSelectorError(parsed.error)}`)
    pending = pending.filter(d => matchesSelector(parsed.selector, d.labels))
  }
  return pending.map(d => d.clientId)
}

/** Approves each device in turn; one that fails stops the rest, after those already approved. */
export async function approveDevices(client: OperatorClient, options: ApproveOptions): Promise<Device[]> {
  const ids = devicesToApprove(options.allPending ? await client.listDevices() : [], options)
  const approved: Device[] = []
  for (const id of ids) approved.push(await client.approveDevice(id))
  return approved
}

/** Pending devices first (they wait for someone), then the rest in the server's order. */
export function pendingFirst<T extends {enrollment: string}>(devices: readonly T[]): T[] {
  return [...devices.filter(d => d.enrollment === 'pending'), ...devices.filter(d => d.enrollment !== 'pending')]
}

export interface JoinTokenOptions {
  labels?: readonly string[]
  uses?: number
  expires?: string
  scope?: string
}

export function joinTokenBody(options: JoinTokenOptions): Record<string, unknown> {
  const parsed = parseLabelArguments(options.labels ?? [])
  if (!parsed.ok) throw new UsageError(`--labels: ${parsed.problems.map(p => `${p.path}: ${p.message}`).join('; ')}`)
  const removals = Object.entries(parsed.patch).filter(([, v]) => v === null).map(([k]) => k)
  if (removals.length > 0) throw new UsageError(`--labels sets labels as key=value; ${removals.map(k => `${k}-`).join(', ')} removes nothing here`)
  return {
    ...(Object.keys(parsed.patch).length ? {labels: parsed.patch} : {}),
    ...(options.uses !== undefined ? {uses: options.uses} : {}),
    ...(options.expires !== undefined ? {expires: options.expires} : {}),
    ...(options.scope !== undefined ? {scope: options.scope} : {}),
  }
}

export const createJoinToken = (client: OperatorClient, options: JoinTokenOptions) =>
  client.call<CreatedJoinToken>('POST', '/join-tokens', {body: joinTokenBody(options), inputHint: '--labels k=v (repeatable), --uses N, --expires like 24h or 30m, --scope is a label selector'})

export const listJoinTokens = async (client: OperatorClient) => (await client.call<{joinTokens: JoinTokenInfo[]}>('GET', '/join-tokens')).joinTokens

export const revokeJoinToken = (client: OperatorClient, id: string) => client.call<JoinTokenInfo>('POST', `/join-tokens/${encodeURIComponent(id)}/revoke`)
