/** What the server does with registries: create, list, show, remove, sync now. */
import {conflict, invalid, notFound} from '../domain-errors.ts'
import {deleteRegistry, getRegistry, insertRegistry, listRegistries, type RegistryRecord} from '../store/registries-repo.ts'
import {syncRegistry, type SyncDeps} from './sync.ts'
import type {RegistryView, SyncResult} from './types.ts'
import {parseRegistryInput} from './validate.ts'

/** The API's view of a registry: credentials reduced to whether there are any. */
export function registryView(r: RegistryRecord, withVersions = true): RegistryView {
  let lastSync: SyncResult | null = null
  if (r.lastSyncJson) {
    try { lastSync = JSON.parse(r.lastSyncJson) as SyncResult } catch { lastSync = null }
  }
  if (lastSync && !withVersions) lastSync = {...lastSync, versions: []}
  return {
    name: r.name,
    kind: r.kind,
    url: r.url,
    ...(r.ref ? {ref: r.ref} : {}),
    repositories: r.repositories,
    hasCredentials: r.credentials !== null,
    ...(r.credentials ? {credentialsKind: r.credentials.kind} : {}),
    intervalSeconds: r.intervalSeconds,
    createdAt: r.createdAt,
    lastSyncAt: r.lastSyncAt,
    lastSync,
  }
}

/** What the registry operations need: the sync's dependencies (store, events, log, clock). */
export type RegistryDeps = SyncDeps

export const registryNotFound = (name: string) => notFound('registry', name, 'run: margo registry list')

export function createRegistry(ctx: RegistryDeps, body: Record<string, unknown>): RegistryView {
  const parsed = parseRegistryInput(body)
  if (!parsed.ok) throw invalid('invalid_registry', `the registry is invalid (${parsed.errors.length} problem(s))`, parsed.errors)
  const v = parsed.value
  const inserted = insertRegistry(ctx.store, {
    name: v.name, kind: v.kind, url: v.url, ref: v.ref ?? null, repositories: v.repositories,
    credentials: v.credentials ?? null, intervalSeconds: v.intervalSeconds, createdAt: ctx.now().toISOString(),
  })
  if (!inserted) throw conflict(`a registry named ${v.name} exists already — remove it first (margo registry remove ${v.name}) or pick another name`)
  ctx.log.info('registry.added', {registry: v.name, kind: v.kind, url: v.url, credentials: v.credentials?.kind ?? 'none'})
  return registryView(getRegistry(ctx.store, v.name)!)
}

export function listRegistryViews(ctx: Pick<RegistryDeps, 'store'>): RegistryView[] {
  return listRegistries(ctx.store).map(r => registryView(r, false))
}

export function showRegistry(ctx: Pick<RegistryDeps, 'store'>, name: string): RegistryView {
  const r = getRegistry(ctx.store, name)
  if (!r) throw registryNotFound(name)
  return registryView(r)
}

/** Removes the registry; the versions it added stay in the catalog (deployments may use them). */
export function removeRegistry(ctx: Pick<RegistryDeps, 'store' | 'log'>, name: string): RegistryView {
  const r = getRegistry(ctx.store, name)
  if (!r || !deleteRegistry(ctx.store, name)) throw registryNotFound(name)
  ctx.log.info('registry.removed', {registry: name})
  return registryView(r)
}

export async function syncNow(ctx: RegistryDeps, name: string): Promise<SyncResult> {
  const p = syncRegistry(ctx, name)
  if (!p) throw registryNotFound(name)
  return p
}

/** Registries as the server uses them, bound to their dependencies once. */
export function createRegistryService(deps: RegistryDeps) {
  return {
    create: (body: Record<string, unknown>) => createRegistry(deps, body),
    list: () => listRegistryViews(deps),
    show: (name: string) => showRegistry(deps, name),
    remove: (name: string) => removeRegistry(deps, name),
    syncNow: (name: string) => syncNow(deps, name),
  }
}

export type RegistryService = ReturnType<typeof createRegistryService>
