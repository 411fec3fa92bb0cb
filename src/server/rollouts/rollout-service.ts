/**
 * Rollouts: one app deployed to a list of devices or to a live label selector. Each device in
 * scope gets one ordinary deployment linked to the rollout; re-evaluation keeps that true as
 * devices are onboarded, relabelled or report new capabilities, and as the app gets versions.
 *
 * Every change to a device is one transaction with the manifest that announces it. An
 * operator's request (create, change) is all or nothing: invalid values or an immutable
 * setting on any device refuse the whole request before anything is written.
 */
import {randomUUID} from 'node:crypto'
import {YAML_MEDIA_TYPE} from '../../margo/media-types.ts'
import {NotFoundError} from '../../util/errors.ts'
import {findAppVersion} from '../catalog/catalog-service.ts'
import {resolveParameterValues} from '../../margo/package/parameters.ts'
import {deviceView} from '../deployments/deployment-service.ts'
import {publishManifest} from '../desired-state/publish.ts'
import {badRequest, conflict, invalid, invalidParameters, notFound} from '../domain-errors.ts'
import type {EventBus} from '../events.ts'
import type {ClientRecord, DeploymentRecord, Store} from '../store/store.ts'
import {
  getRollout, insertRollout, linkDeployment, listRollouts, rolloutDeploymentIds, rolloutLinks, updateRollout as writeRollout,
  type RolloutRecord,
} from '../store/rollouts-repo.ts'
import {unifiedDiff} from './diff.ts'
import {inScope, planDevice, type AppFacts, type Decision, type DeviceFacts, type ExistingDeployment, type Problem} from './plan.ts'
import {describeSelectorError, formatSelector, parseSelector} from '../../operator-contract/selector.ts'

/** The id a dry run renders new deployments with: visibly not a real one. */
export const DRY_RUN_DEPLOYMENT_ID = '00000000-0000-4000-8000-000000000000'

export interface RolloutInput {
  appId: string
  version?: string
  devices?: string[]
  selector?: string
  profile?: string
  values?: Record<string, unknown>
}

export interface RolloutPatch {
  /** A version pins it; null follows the latest again. */
  version?: string | null
  /** Merged into the rollout's values; null removes a value (the app's default applies again). */
  values?: Record<string, unknown>
  selector?: string
}

export interface TargetResult {
  clientId: string
  /** null for a deployment a dry run would create. */
  deploymentId: string | null
  action: 'create' | 'update' | 'unchanged'
  appVersion: string
  profile: {id: string, type: string}
  digest: string
  yaml?: string
  diff?: string
}

export interface RolloutResult {
  rolloutId: string | null
  dryRun: boolean
  appId: string
  /** The pinned version, or null when the rollout follows the latest. */
  version: string | null
  /** The version deployed by this evaluation. */
  appVersion: string
  selector: string | null
  devices: string[]
  targets: TargetResult[]
  removed: {clientId: string, deploymentId: string}[]
  skipped: {clientId: string, reason: string}[]
}

type Events = Pick<EventBus, 'emit'>

export interface RolloutDeps {
  store: Store
  events: Events
  now: () => Date
}

const rolloutNotFound = (id: string) => notFound('rollout', id, 'margo deploy prints the rollout id; GET /operator/v1/rollouts lists them')

function facts(client: ClientRecord): DeviceFacts {
  return {clientId: client.clientId, enrollment: client.enrollment, labels: client.labels, view: deviceView(client)}
}

function appFacts(store: Store, appId: string, version: string | null): AppFacts | {error: string} {
  try {
    const {record, description} = findAppVersion(store, appId, version ?? undefined)
    return {appId: record.appId, version: record.version, description}
  } catch (err) {
    if (err instanceof NotFoundError) return {error: err.message}
    throw err
  }
}

function existingOf(store: Store, clientId: string, appId: string): ExistingDeployment[] {
  const links = rolloutLinks(store, clientId)
  return store.listDeployments({clientId, appId, desired: 'present'}).map(deployment => ({deployment, rolloutId: links.get(deployment.deploymentId) ?? null}))
}

/** Writes one decision; returns the deployment it changed, if any. Runs in the caller's transaction. */
function apply(store: Store, rolloutId: string, d: Decision, now: string): DeploymentRecord | null {
  switch (d.action) {
    case 'create':
      store.putArtifact(d.record.digest, YAML_MEDIA_TYPE, d.bytes, now)
      store.insertDeployment(d.record)
      linkDeployment(store, d.record.deploymentId, rolloutId)
      return d.record
    case 'update':
      store.putArtifact(d.record.digest, YAML_MEDIA_TYPE, d.bytes, now)
      store.updateDeployment(d.record)
      if (d.relink) linkDeployment(store, d.record.deploymentId, rolloutId)
      return d.record
    case 'unchanged':
      if (d.relink) linkDeployment(store, d.current.deploymentId, rolloutId)
      return null
    case 'remove': {
      const removed: DeploymentRecord = {...d.current, desired: 'absent', updatedAt: now}
      store.updateDeployment(removed)
      return removed
    }
    default:
      return null
  }
}

function announce(events: Events, changed: DeploymentRecord[]) {
  for (const d of changed) events.emit({type: 'deployment.changed', deploymentId: d.deploymentId, clientId: d.clientId})
}

function checkSelector(text: string): string {
  const parsed = parseSelector(text)
  if (!parsed.ok) throw invalid('invalid_selector', describeSelectorError(parsed.error), [{path: 'selector', message: parsed.error.message}])
  return formatSelector(parsed.selector)
}

/** Checks what does not depend on a device: the app version, the profile name and the values. */
function checkRollout(store: Store, rollout: RolloutRecord): AppFacts {
  const {record, description} = findAppVersion(store, rollout.appId, rollout.appVersion ?? undefined)
  if (rollout.profile) {
    const wanted = rollout.profile === 'helm' ? 'helm.v3' : rollout.profile
    if (!description.deploymentProfiles.some(p => p.id === wanted || p.type === wanted)) {
      const names = description.deploymentProfiles.map(p => `${p.id} (${p.type})`).join(', ')
      throw invalid('profile_unavailable', `${record.appId}@${record.version} has no profile with id or type ${JSON.stringify(rollout.profile)}; its profiles are ${names}`,
        [{path: 'profile', message: `no profile ${JSON.stringify(rollout.profile)}`}])
    }
  }
  const resolved = resolveParameterValues(description, rollout.values)
  if (!resolved.ok) throw invalidParameters(resolved.errors)
  return {appId: record.appId, version: record.version, description}
}

function candidates(store: Store, rollout: RolloutRecord): ClientRecord[] {
  if (rollout.selector !== null) return store.listClients()
  return rollout.devices.map(id => store.getClient(id)).filter((c): c is ClientRecord => c !== null)
}

/**
 * Plans the rollout on every device it covers or owns a deployment on. Throws (nothing
 * written) when a device's values are refused: invalid or an immutable setting changed.
 */
function planAll(store: Store, rollout: RolloutRecord, app: AppFacts, now: string, dryRun: boolean): Decision[] {
  const owned = new Set(rolloutDeploymentIds(store, rollout.rolloutId).map(id => store.getDeployment(id)?.clientId))
  const clients = candidates(store, rollout)
  for (const id of owned) {
    if (id && !clients.some(c => c.clientId === id)) {
      const c = store.getClient(id)
      if (c) clients.push(c)
    }
  }
  const decisions = clients.map(client => planDevice({
    rollout, device: facts(client), app, existing: existingOf(store, client.clientId, rollout.appId), adopt: true, now,
    newDeploymentId: dryRun ? () => DRY_RUN_DEPLOYMENT_ID : randomUUID,
  }))
  const refused = decisions.filter((d): d is Extract<Decision, {action: 'skip'}> => d.action === 'skip' && d.kind === 'values')
  if (refused.length > 0) {
    const details: Problem[] = refused.flatMap(d => d.problems.map(p => ({path: `${d.clientId}: ${p.path}`, message: p.message})))
    const immutable = refused.some(d => d.problems.some(p => p.code === 'immutable'))
    throw invalid(immutable ? 'immutable_parameter' : 'invalid_parameters',
      `parameter values are refused on ${refused.length} device(s); nothing was changed`, details)
  }
  return decisions
}

function result(store: Store, rollout: RolloutRecord, app: AppFacts, decisions: Decision[], dryRun: boolean): RolloutResult {
  const targets: TargetResult[] = []
  const removed: RolloutResult['removed'] = []
  const skipped: RolloutResult['skipped'] = []
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
  for (const d of decisions) {
    if (d.action === 'skip') skipped.push({clientId: d.clientId, reason: d.reason})
    else if (d.action === 'remove') removed.push({clientId: d.clientId, deploymentId: d.current.deploymentId})
    else if (d.action === 'create' || d.action === 'update' || d.action === 'unchanged') {
      const record = d.action === 'unchanged' ? d.current : d.record
      const target: TargetResult = {
        clientId: d.clientId,
        deploymentId: d.action === 'create' && dryRun ? null : record.deploymentId,
        action: d.action,
        appVersion: record.appVersion,
        profile: {id: record.profileId, type: record.profileType},
        digest: record.digest,
      }
      if (dryRun) {
        const yaml = d.action === 'unchanged' ? text(store.getArtifact(record.digest)?.bytes ?? new Uint8Array()) : text(d.bytes)
        target.yaml = yaml
        if (d.action === 'update') {
          const before = store.getArtifact(d.current.digest)
          target.diff = unifiedDiff(before ? text(before.bytes) : '', yaml, {from: `${d.current.deploymentId} (${d.current.appVersion}, current)`, to: `${d.current.deploymentId} (${record.appVersion}, new)`})
        }
      }
      targets.push(target)
    }
  }
  return {
    rolloutId: dryRun ? (getRollout(store, rollout.rolloutId) ? rollout.rolloutId : null) : rollout.rolloutId,
    dryRun, appId: rollout.appId, version: rollout.appVersion, appVersion: app.version,
    selector: rollout.selector, devices: rollout.devices, targets, removed, skipped,
  }
}

/** Writes the decisions, one transaction per device with its manifest; then announces them. */
function commit(store: Store, events: Events, rollout: RolloutRecord, decisions: Decision[], now: string, write: () => void) {
  const changed: DeploymentRecord[] = []
  store.transaction(() => {
    write()
    for (const d of decisions) {
      const c = apply(store, rollout.rolloutId, d, now)
      if (c) changed.push(c)
    }
    for (const clientId of new Set(changed.map(c => c.clientId))) publishManifest(store, clientId, now)
  })
  announce(events, changed)
}

export function createRollout({store, events, now: clock}: RolloutDeps, input: RolloutInput, options: {dryRun?: boolean} = {}): RolloutResult {
  const now = clock().toISOString()
  const hasDevices = input.devices !== undefined
  const hasSelector = input.selector !== undefined
  if (hasDevices === hasSelector) throw badRequest('give either "devices" (a list of client ids) or "selector" (a label selector; "" selects every device)')
  const devices = hasDevices ? [...new Set(input.devices)] : []
  if (hasDevices && devices.length === 0) throw badRequest('"devices" is empty; name at least one client id, or use a selector')
  const unknown = devices.filter(id => !store.getClient(id))
  if (unknown.length > 0) {
    throw notFound('device', unknown.join(', '), 'run: margo device list')
  }
  const rollout: RolloutRecord = {
    rolloutId: randomUUID(),
    appId: input.appId,
    appVersion: input.version ?? null,
    selector: hasSelector ? checkSelector(input.selector!) : null,
    devices,
    profile: input.profile ?? null,
    values: input.values ?? {},
    createdAt: now,
    updatedAt: now,
    deleted: false,
  }
  const app = checkRollout(store, rollout)
  const decisions = planAll(store, rollout, app, now, options.dryRun === true)
  if (!options.dryRun) commit(store, events, rollout, decisions, now, () => insertRollout(store, rollout))
  return result(store, rollout, app, decisions, options.dryRun === true)
}

export function requireRollout(store: Store, rolloutId: string): RolloutRecord {
  const r = getRollout(store, rolloutId)
  if (!r || r.deleted) throw rolloutNotFound(rolloutId)
  return r
}

export function updateRollout({store, events, now: clock}: RolloutDeps, rolloutId: string, patch: RolloutPatch, options: {dryRun?: boolean} = {}): RolloutResult {
  const now = clock().toISOString()
  const current = requireRollout(store, rolloutId)
  if (patch.selector !== undefined && current.selector === null) {
    throw conflict(`rollout ${rolloutId} lists its devices; a selector cannot replace the list — deploy with --selector instead`)
  }
  const values = {...current.values}
  for (const [k, v] of Object.entries(patch.values ?? {})) {
    if (v === null) delete values[k]
    else values[k] = v
  }
  const rollout: RolloutRecord = {
    ...current,
    appVersion: patch.version === undefined ? current.appVersion : patch.version,
    selector: patch.selector === undefined ? current.selector : checkSelector(patch.selector),
    values,
    updatedAt: now,
  }
  const app = checkRollout(store, rollout)
  const decisions = planAll(store, rollout, app, now, options.dryRun === true)
  if (!options.dryRun) commit(store, events, rollout, decisions, now, () => writeRollout(store, rollout))
  return result(store, rollout, app, decisions, options.dryRun === true)
}

/**
 * Deletes the rollout and its deployments (the devices report removing, then removed). A
 * device another rollout of the same app still covers gets that rollout's deployment back.
 */
export function deleteRollout({store, events, now: clock}: RolloutDeps, rolloutId: string): {rolloutId: string, removed: {clientId: string, deploymentId: string}[]} {
  const now = clock().toISOString()
  const rollout = requireRollout(store, rolloutId)
  const owned = rolloutDeploymentIds(store, rolloutId).map(id => store.getDeployment(id)!)
  const changed: DeploymentRecord[] = []
  store.transaction(() => {
    writeRollout(store, {...rollout, deleted: true, updatedAt: now})
    for (const d of owned) {
      const removed: DeploymentRecord = {...d, desired: 'absent', updatedAt: now}
      store.updateDeployment(removed)
      changed.push(removed)
    }
    for (const clientId of new Set(owned.map(d => d.clientId))) publishManifest(store, clientId, now)
  })
  announce(events, changed)
  for (const clientId of new Set(owned.map(d => d.clientId))) reconcile(store, events, clientId, now, {appId: rollout.appId})
  return {rolloutId, removed: owned.map(d => ({clientId: d.clientId, deploymentId: d.deploymentId}))}
}

/**
 * Brings one device in line with every live rollout (or those of one app): creates, updates
 * and removes deployments in one transaction with one new manifest. Idempotent. Removals go
 * first, so a device that moves from one rollout of an app to another is handed over in one
 * step; then the newest rollout is served first, as the latest operator intent.
 */
export function reconcileDevice({store, events, now}: RolloutDeps, clientId: string, filter: {appId?: string} = {}): Decision[] {
  return reconcile(store, events, clientId, now().toISOString(), filter)
}

function reconcile(store: Store, events: Events, clientId: string, now: string, filter: {appId?: string}): Decision[] {
  const client = store.getClient(clientId)
  if (!client) return []
  const rollouts = listRollouts(store, filter).reverse()
  const device = facts(client)
  const apps = new Map<string, AppFacts | {error: string}>()
  const appOf = (r: RolloutRecord) => {
    const key = `${r.appId}@${r.appVersion ?? ''}`
    if (!apps.has(key)) apps.set(key, appFacts(store, r.appId, r.appVersion))
    return apps.get(key)!
  }
  const plan = (r: RolloutRecord) => planDevice({
    rollout: r, device, app: appOf(r), existing: existingOf(store, clientId, r.appId), adopt: false, now, newDeploymentId: randomUUID,
  })
  const decisions: Decision[] = []
  const changed: DeploymentRecord[] = []
  store.transaction(() => {
    for (const removals of [true, false]) {
      for (const r of rollouts) {
        // Only a rollout the device has left can remove anything.
        if (removals && inScope(r, device)) continue
        const d = plan(r)
        if ((d.action === 'remove') !== removals) continue
        decisions.push(d)
        const c = apply(store, r.rolloutId, d, now)
        if (c) changed.push(c)
      }
    }
    if (changed.length > 0) publishManifest(store, clientId, now)
  })
  announce(events, changed)
  return decisions
}

/** Re-evaluates an app's rollouts on every device, one transaction per device. */
export function reconcileApp({store, events, now: clock}: RolloutDeps, appId: string) {
  if (listRollouts(store, {appId}).length === 0) return
  const now = clock().toISOString()
  for (const client of store.listClients()) reconcile(store, events, client.clientId, now, {appId})
}

export function rolloutSummary(r: RolloutRecord) {
  return {
    rolloutId: r.rolloutId, appId: r.appId, version: r.appVersion, selector: r.selector, devices: r.devices,
    profile: r.profile, values: r.values, createdAt: r.createdAt, updatedAt: r.updatedAt,
  }
}

export function listRolloutSummaries(store: Store, filter: {appId?: string} = {}) {
  return listRollouts(store, filter).map(r => ({...rolloutSummary(r), deployments: rolloutDeploymentIds(store, r.rolloutId).length}))
}

/**
 * A rollout with its deployments (status included by `deploymentView`) and the devices in its
 * scope that have none, with the reason, as a re-evaluation would find them now.
 */
export function rolloutDetail<T>({store, now: clock}: Pick<RolloutDeps, 'store' | 'now'>, rolloutId: string, deploymentView: (d: DeploymentRecord) => T) {
  const now = clock().toISOString()
  const rollout = requireRollout(store, rolloutId)
  const deployments = rolloutDeploymentIds(store, rolloutId).map(id => store.getDeployment(id)!)
  const app = appFacts(store, rollout.appId, rollout.appVersion)
  const skipped: {clientId: string, reason: string}[] = []
  for (const client of candidates(store, rollout)) {
    if (deployments.some(d => d.clientId === client.clientId) || !inScope(rollout, client)) continue
    const d = planDevice({
      rollout, device: facts(client), app, existing: existingOf(store, client.clientId, rollout.appId), adopt: false, now,
      newDeploymentId: () => DRY_RUN_DEPLOYMENT_ID,
    })
    if (d.action === 'skip') skipped.push({clientId: client.clientId, reason: d.reason})
  }
  return {...rolloutSummary(rollout), appVersion: 'error' in app ? null : app.version, targets: deployments.map(deploymentView), skipped}
}

/** Rollouts as the server uses them, bound to their dependencies once. */
export function createRolloutService(deps: RolloutDeps) {
  return {
    create: (input: RolloutInput, options: {dryRun?: boolean} = {}) => createRollout(deps, input, options),
    update: (rolloutId: string, patch: RolloutPatch, options: {dryRun?: boolean} = {}) => updateRollout(deps, rolloutId, patch, options),
    remove: (rolloutId: string) => deleteRollout(deps, rolloutId),
    list: (filter: {appId?: string} = {}) => listRolloutSummaries(deps.store, filter),
    detail: <T>(rolloutId: string, deploymentView: (d: DeploymentRecord) => T) => rolloutDetail(deps, rolloutId, deploymentView),
    reconcileDevice: (clientId: string, filter: {appId?: string} = {}) => reconcileDevice(deps, clientId, filter),
    reconcileApp: (appId: string) => reconcileApp(deps, appId),
  }
}

export type RolloutService = ReturnType<typeof createRolloutService>
