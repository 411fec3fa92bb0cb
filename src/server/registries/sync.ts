/**
 * One sync of one registry: read every package it offers, validate each like an upload, add new
 * versions to the catalog, and store what happened as the registry's last sync result.
 * A registry never runs two syncs at once: a second request joins the running one.
 */
import {join} from 'node:path'
import {SYSTEM_ACTOR, appendAudit} from '../audit/service.ts'
import {OciClient} from '../../oci/client.ts'
import {OciError} from '../../oci/errors.ts'
import {pullPackage} from '../../oci/package.ts'
import type {Logger} from '../../util/log.ts'
import {readPackageFromDirectory, type PackageResult} from '../../margo/package/package.ts'
import type {EventBus} from '../events.ts'
import {getRegistry, recordSync, type RegistryRecord} from '../store/registries-repo.ts'
import type {Store} from '../store/store.ts'
import {findPackageFolders, withClone} from './git.ts'
import {packageProblems, publishFromRegistry} from './publish.ts'
import type {SyncResult, SyncVersionResult} from './types.ts'

export interface SyncDeps {
  store: Store
  events: EventBus
  log: Logger
  now: () => Date
  /** For tests: the HTTP client the OCI reader uses. */
  fetch?: typeof fetch
}

const running = new WeakMap<Store, Map<string, Promise<SyncResult>>>()

/** True while a sync of this registry runs in this process. */
export function isSyncing(store: Store, name: string): boolean {
  return running.get(store)?.has(name) ?? false
}

/** Syncs the registry now (or joins the sync already running); null when there is no such registry. */
export function syncRegistry(deps: SyncDeps, name: string): Promise<SyncResult> | null {
  let inFlight = running.get(deps.store)
  if (!inFlight) { inFlight = new Map(); running.set(deps.store, inFlight) }
  const current = inFlight.get(name)
  if (current) return current
  const record = getRegistry(deps.store, name)
  if (!record) return null
  const map = inFlight
  const p = runSync(deps, record).finally(() => map.delete(name))
  map.set(name, p)
  return p
}

class Collector {
  readonly versions: SyncVersionResult[] = []
  readonly errors: string[] = []
  constructor(private readonly deps: SyncDeps, private readonly registry: string) {}

  /** Validates and publishes one package read from the registry. */
  add(location: string, pkg: PackageResult, expectedVersion?: string): void {
    if (!pkg.ok) {
      this.versions.push({appId: null, version: expectedVersion ?? null, status: 'invalid', error: packageProblems(pkg.errors), location})
      return
    }
    const {id: appId, version} = pkg.description.metadata
    if (expectedVersion !== undefined && expectedVersion !== version) {
      this.versions.push({appId, version, status: 'invalid', error: `the tag "${expectedVersion}" differs from metadata.version "${version}"; the tag must equal the version`, location})
      return
    }
    const duplicate = this.versions.find(v => v.appId === appId && v.version === version && v.status !== 'invalid')
    if (duplicate) {
      this.versions.push({appId, version, status: 'conflict', error: `${appId} ${version} is also offered at ${duplicate.location}; only the first one is used`, location})
      return
    }
    const outcome = publishFromRegistry(this.deps.store, this.deps.events, this.registry, pkg, this.deps.now().toISOString())
    this.versions.push({appId, version, ...outcome, location})
  }

  invalid(location: string, version: string | null, error: string): void {
    this.versions.push({appId: null, version, status: 'invalid', error, location})
  }
}

async function syncOci(deps: SyncDeps, r: RegistryRecord, c: Collector): Promise<void> {
  const client = new OciClient({
    url: r.url,
    ...(r.credentials ? {credentials: r.credentials} : {}),
    ...(deps.fetch ? {fetch: deps.fetch} : {}),
    userAgent: 'margo-registry-sync',
  })
  let repositories = r.repositories
  if (repositories.length === 0) {
    try {
      repositories = await client.catalog()
    } catch (e) {
      c.errors.push(`cannot list the repositories of ${r.url}: ${(e as Error).message} — name the repositories to read when adding the registry`)
      return
    }
  }
  for (const repository of repositories) {
    let tags: string[]
    try {
      tags = await client.listTags(repository)
    } catch (e) {
      c.errors.push(`${repository}: ${(e as Error).message}`)
      if (e instanceof OciError && (e.kind === 'unreachable' || e.kind === 'auth')) return
      continue
    }
    for (const tag of tags.sort()) {
      const location = `${repository}:${tag}`
      try {
        const pulled = await pullPackage(client, repository, tag)
        if (pulled.kind === 'other') continue
        if (pulled.kind === 'invalid') c.invalid(location, tag, pulled.reason)
        else c.add(location, pulled.package, tag)
      } catch (e) {
        if (e instanceof OciError && (e.kind === 'unreachable' || e.kind === 'auth')) {
          c.errors.push(`${location}: ${e.message}`)
          return
        }
        c.invalid(location, tag, (e as Error).message)
      }
    }
  }
}

async function syncGit(r: RegistryRecord, c: Collector): Promise<void> {
  try {
    await withClone(r.url, r.ref, r.credentials, async dir => {
      for (const folder of await findPackageFolders(dir)) {
        c.add(folder, await readPackageFromDirectory(folder === '.' ? dir : join(dir, folder)))
      }
    })
  } catch (e) {
    c.errors.push((e as Error).message)
  }
}

async function runSync(deps: SyncDeps, r: RegistryRecord): Promise<SyncResult> {
  const startedAt = deps.now().toISOString()
  const c = new Collector(deps, r.name)
  try {
    if (r.kind === 'oci') await syncOci(deps, r, c)
    else await syncGit(r, c)
  } catch (e) {
    c.errors.push(`the sync stopped: ${(e as Error).message}`)
  }
  const result: SyncResult = {
    registry: r.name,
    startedAt,
    finishedAt: deps.now().toISOString(),
    appsFound: new Set(c.versions.map(v => v.appId).filter(id => id !== null)).size,
    versionsAdded: c.versions.filter(v => v.status === 'added').length,
    versions: c.versions,
    errors: c.errors,
  }
  deps.store.transaction(() => {
    recordSync(deps.store, r.name, result.finishedAt, JSON.stringify(result))
    const added = c.versions.filter(v => v.status === 'added').map(v => `${v.appId}@${v.version}`)
    if (added.length > 0) appendAudit(deps.store, {actor: SYSTEM_ACTOR, action: 'registry.versions_added', target: `registry:${r.name}`, summary: {versions: added}}, deps.now())
  })
  const problems = c.versions.filter(v => v.status === 'conflict' || v.status === 'invalid').length
  const level = c.errors.length > 0 || problems > 0 ? 'warn' : 'info'
  deps.log[level]('registry.synced', {registry: r.name, kind: r.kind, appsFound: result.appsFound, versionsAdded: result.versionsAdded, problems, errors: c.errors.length})
  return result
}
