/** Registries of the operator API (`/registries`) for the CLI and scripts. */
import type {OperatorClient} from './operator-client.ts'
import {MargoError, OperationError, UsageError} from '../util/errors.ts'
import type {Registry, SyncResult} from '../operator-contract/views.ts'
import type {AddRegistryRequest} from '../operator-contract/requests.ts'

const enc = encodeURIComponent

export async function listRegistries(client: OperatorClient): Promise<Registry[]> {
  return (await client.call<{registries: Registry[]}>('GET', '/registries')).registries
}

export function getRegistry(client: OperatorClient, name: string): Promise<Registry> {
  return client.call('GET', `/registries/${enc(name)}`)
}

export function addRegistry(client: OperatorClient, request: AddRegistryRequest): Promise<Registry> {
  return client.call('POST', '/registries', {body: request, inputHint: 'fix the registry settings and add it again'})
}

export function removeRegistry(client: OperatorClient, name: string): Promise<Registry> {
  return client.call('DELETE', `/registries/${enc(name)}`)
}

export function syncRegistry(client: OperatorClient, name: string): Promise<SyncResult> {
  return client.call('POST', `/registries/${enc(name)}/sync`)
}

export interface AddRegistryFlags {
  kind?: string
  ref?: string
  repository?: string[]
  username?: string
  password?: string
  'registry-token'?: string
  interval?: number
}

/**
 * The request `margo registry add NAME URL` sends. Without --kind, a URL ending in `.git`, a
 * `file://` URL or an absolute path is a git registry; anything else an OCI registry.
 */
export function addRegistryRequest(name: string, url: string, flags: AddRegistryFlags): AddRegistryRequest {
  const kind = flags.kind ?? (/\.git\/?$/.test(url) || url.startsWith('file://') || url.startsWith('/') ? 'git' : 'oci')
  if (kind !== 'oci' && kind !== 'git') throw new UsageError(`--kind must be oci or git, not ${kind}`)
  if ((flags.username === undefined) !== (flags.password === undefined)) throw new UsageError('--username and --password go together')
  if (flags['registry-token'] !== undefined && flags.username !== undefined) throw new UsageError('pass either --registry-token or --username/--password, not both')
  return {
    name, kind, url,
    ...(flags.ref !== undefined ? {ref: flags.ref} : {}),
    ...(flags.repository?.length ? {repositories: flags.repository} : {}),
    ...(flags.username !== undefined ? {username: flags.username, password: flags.password!} : {}),
    ...(flags['registry-token'] !== undefined ? {token: flags['registry-token']} : {}),
    ...(flags.interval !== undefined ? {intervalSeconds: flags.interval} : {}),
  }
}

/** Adds the registry and, unless asked not to, syncs it once right away. */
/** Sync results whose problems should make the command fail (exit 1). */
export function syncFailed(s: SyncResult): boolean {
  return s.errors.length > 0 || s.versions.some(v => v.status === 'conflict' || v.status === 'invalid')
}

export interface AddOutcome {
  registry: Registry
  sync: SyncResult | null
  /** Why the command ends with exit 1 although the registry was saved; null when all went well. */
  failure: OperationError | null
}

/**
 * `margo registry add`: saves the registry, then syncs it once. The registry stays saved
 * whatever the sync does, so a failed sync says so and how to retry rather than leaving the
 * operator to guess whether to add it again.
 */
export async function addAndSync(client: OperatorClient, request: AddRegistryRequest, sync: boolean): Promise<AddOutcome> {
  const registry = await addRegistry(client, request)
  if (!sync) return {registry, sync: null, failure: null}
  const retry = `margo registry sync ${request.name}`
  let result: SyncResult
  try {
    result = await syncRegistry(client, request.name)
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    const code = err instanceof MargoError ? err.code : 'sync_failed'
    return {registry, sync: null, failure: new OperationError(`registry ${request.name} was saved, but its first sync failed (${why}) — retry with: ${retry}`, {code, cause: err})}
  }
  const failure = syncFailed(result)
    ? new OperationError(`registry ${request.name} was saved, but its first sync found problems (shown above) — fix them, then run: ${retry}`, {code: 'sync_problems'})
    : null
  return {registry, sync: result, failure}
}
