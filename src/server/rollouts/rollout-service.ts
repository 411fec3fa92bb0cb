/**
 * Rollouts: the operator's intent for one app (version, profile, values, and a device list or
 * live label selector), identified by a name. Each device in scope gets one ordinary deployment
 * linked to the rollout, kept (same deploymentId) across changes; re-evaluation keeps that true
 * as devices are onboarded, relabelled or report new capabilities, and as the app gets versions.
 *
 * Every change of intent is a numbered revision with who made it and when; undo makes a new
 * revision equal to an older one. A device is targeted by at most one rollout of an app: a
 * request that would make a second one reach it is refused, naming the other rollout.
 *
 * Every change to a device is one transaction with the manifest that announces it. An
 * operator's request (deploy, change, undo) is all or nothing: invalid values or an immutable
 * setting on any device refuse the whole request before anything is written.
 */
import {randomUUID} from 'node:crypto'
import {ConflictError} from '../../util/errors.ts'
import {findAppVersion} from '../catalog/catalog-service.ts'
import {NO_SECRETS, resolveWithSecrets, type SecretReader} from '../secrets/resolve.ts'
import {showReferences} from '../secrets/references.ts'
import {shownDeploymentYaml} from '../secrets/show.ts'
import {publishManifest} from '../desired-state/publish.ts'
import {badRequest, conflict, invalid, invalidParameters, notFound} from '../domain-errors.ts'
import type {DeploymentRecord, Store} from '../store/store.ts'
import {
  deletedRolloutsByName, forgetDeployment, getRollout, getRolloutByName, insertRevision, insertRollout, listRevisions, listRollouts,
  rolloutDeploymentIds, rolloutOfDeployment, updateRollout as writeRollout, type RolloutRecord,
} from '../store/rollouts-repo.ts'
import {unifiedDiff} from './diff.ts'
import {apply, announce, appFacts, candidates, existingForApp, existingOf, facts, type Events} from './apply.ts'
import {inScope, planDevice, type AppFacts, type Decision, type Problem} from './plan.ts'
import {describeSelectorError, formatSelector, parseSelector} from '../../operator-contract/selector.ts'
import {defaultNamespace, isDnsLabel} from '../deployments/names.ts'
import {describeConflicts, ownershipConflicts} from './ownership.ts'
import {checkTemplates} from './templates.ts'
import {advanceAll, advanceRollout, controlRollout, gate, rolloutProgress, runKeyOf} from './staging.ts'
import {parseStrategy} from './strategy/spec.ts'
import type {SetForRequest} from '../../operator-contract/strategy.ts'
import type {LivenessThresholds} from '../../operator-contract/liveness.ts'
import type {RolloutRequest} from '../../operator-contract/requests.ts'
import type {RolloutChange, RolloutResult, RolloutRevision, RolloutTarget as TargetResult} from '../../operator-contract/views.ts'
import {canonicalJson, historyOf, specChanges, specOf, undoTarget, type SpecField} from './revisions.ts'

/** The id a dry run renders new deployments with: visibly not a real one. */
export const DRY_RUN_DEPLOYMENT_ID = '00000000-0000-4000-8000-000000000000'

/** What an operator asks for: the operator API's request without its dry-run switch. */
export type RolloutInput = Omit<RolloutRequest, 'dryRun'>

export interface RolloutPatch {
  /** A version pins it; null follows the latest again. */
  version?: string | null
  /** Merged into the rollout's values; null removes a value (the app's default applies again). */
  values?: Record<string, unknown>
  selector?: string
}

/** What a deploy did or would do: the operator API's answer, as the contract defines it. */
export type {RolloutChange, RolloutResult, RolloutTarget as TargetResult} from '../../operator-contract/views.ts'

export interface RolloutDeps {
  store: Store
  events: Events
  now: () => Date
  /** Reads the secrets values refer to as `${secret:NAME}` (none when absent). */
  secrets?: SecretReader
  /** For staged rollouts: last-seen times not yet flushed, and when a device counts as offline. */
  lastSeen?: () => ReadonlyMap<string, string>
  thresholds?: LivenessThresholds
}

export interface ChangeOptions {
  dryRun?: boolean
  /** Who asks: recorded with the revision. */
  actor?: string
}

/** Who a revision is recorded for when the caller does not say: the one operator token. */
export const DEFAULT_ACTOR = 'operator'

const rolloutNotFound = (id: string) => notFound('rollout', id, 'run: margo rollout list')

function checkSelector(text: string): string {
  const parsed = parseSelector(text)
  if (!parsed.ok) throw invalid('invalid_selector', describeSelectorError(parsed.error), [{path: 'selector', message: parsed.error.message}])
  return formatSelector(parsed.selector)
}

/** Checks what does not depend on a device: the app version, the profile name and the values. */
function checkRollout(store: Store, rollout: RolloutRecord, secrets: SecretReader): AppFacts {
  const {record, description} = findAppVersion(store, rollout.appId, rollout.appVersion ?? undefined)
  if (rollout.profile) {
    const wanted = rollout.profile === 'helm' ? 'helm.v3' : rollout.profile
    if (!description.deploymentProfiles.some(p => p.id === wanted || p.type === wanted)) {
      const names = description.deploymentProfiles.map(p => `${p.id} (${p.type})`).join(', ')
      throw invalid('profile_unavailable', `${record.appId}@${record.version} has no profile with id or type ${JSON.stringify(rollout.profile)}; its profiles are ${names}`,
        [{path: 'profile', message: `no profile ${JSON.stringify(rollout.profile)}`}])
    }
  }
  const resolved = resolveWithSecrets(description, rollout.values, secrets)
  if (!resolved.ok) throw invalidParameters(resolved.errors)
  return {appId: record.appId, version: record.version, description}
}

/**
 * Plans the rollout on every device it covers or owns a deployment on. Throws (nothing
 * written) when a device's values are refused: invalid or an immutable setting changed.
 */
function planAll(store: Store, rollout: RolloutRecord, app: AppFacts, now: string, dryRun: boolean, secrets: SecretReader): Decision[] {
  const owned = new Set(store.listDeployments({rolloutId: rollout.rolloutId, desired: 'present'}).map(d => d.clientId))
  const clients = candidates(store, rollout)
  const covered = new Set(clients.map(c => c.clientId))
  for (const id of owned) {
    if (!covered.has(id)) {
      const c = store.getClient(id)
      if (c) clients.push(c)
    }
  }
  const existing = existingForApp(store, rollout.appId)
  const decisions = clients.map(client => planDevice({
    rollout, device: facts(client), app, existing: existing(client.clientId), adopt: true, now,
    newDeploymentId: dryRun ? () => DRY_RUN_DEPLOYMENT_ID : randomUUID, secrets,
  }))
  const refused = decisions.filter((d): d is Extract<Decision, {action: 'skip'}> => d.action === 'skip' && (d.kind === 'values' || (d.kind === 'template' && !dryRun)))
  if (refused.length > 0) {
    const details: Problem[] = refused.flatMap(d => d.problems.map(p => ({path: `${d.clientId}: ${p.path}`, message: p.message})))
    const immutable = refused.some(d => d.problems.some(p => p.code === 'immutable'))
    if (refused.every(d => d.kind === 'template')) {
      throw invalid('unresolved_template', `templates do not resolve on ${refused.length} device(s); nothing was changed — run with --dry-run to list them`, details)
    }
    throw invalid(immutable ? 'immutable_parameter' : 'invalid_parameters',
      `parameter values are refused on ${refused.length} device(s); nothing was changed`, details)
  }
  return decisions
}

interface Outcome {
  change: RolloutChange
  changed: SpecField[]
}

function result(store: Store, rollout: RolloutRecord, app: AppFacts, decisions: Decision[], dryRun: boolean, outcome: Outcome): RolloutResult {
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
        // Secrets show as <secret:NAME>, on both sides of a diff: never the stored bytes that hold them.
        const yaml = d.action === 'unchanged' ? shownDeploymentYaml(store, record) : d.shown ?? text(d.bytes)
        target.yaml = yaml
        if (d.action === 'update') {
          target.diff = unifiedDiff(shownDeploymentYaml(store, d.current), yaml, {from: `${d.current.deploymentId} (${d.current.appVersion}, current)`, to: `${d.current.deploymentId} (${record.appVersion}, new)`})
        }
      }
      targets.push(target)
    }
  }
  return {
    rolloutId: dryRun && outcome.change === 'created' ? null : rollout.rolloutId,
    name: rollout.name, revision: rollout.revision, change: outcome.change, changed: outcome.changed,
    dryRun, appId: rollout.appId, version: rollout.appVersion, appVersion: app.version,
    selector: rollout.selector, devices: rollout.devices, targets, removed, skipped,
  }
}

/** Writes the decisions, one transaction per device with its manifest; then announces them. */
function commit(store: Store, events: Events, rollout: RolloutRecord, app: AppFacts, decisions: Decision[], now: string, write: () => void) {
  const changed: DeploymentRecord[] = []
  const runKey = runKeyOf(rollout, app)
  store.transaction(() => {
    write()
    for (const d of decisions) {
      if (!gate(store, rollout, runKey, d)) continue
      const c = apply(store, rollout.rolloutId, d, now)
      if (c) changed.push(c)
    }
    for (const clientId of new Set(changed.map(c => c.clientId))) publishManifest(store, clientId, now)
  })
  announce(events, changed)
}

/** Refuses (409) a rollout that would reach a device another rollout of its app targets. */
function checkOwnership(store: Store, rollout: RolloutRecord) {
  const others = listRollouts(store, {appId: rollout.appId}).filter(r => r.rolloutId !== rollout.rolloutId)
  if (others.length === 0) return
  const owned = new Map(others.map(r => [r.rolloutId, new Set(rolloutDeploymentIds(store, r.rolloutId).map(id => store.getDeployment(id)!.clientId))]))
  const conflicts = ownershipConflicts(rollout, others, candidates(store, rollout), owned)
  if (conflicts.length === 0) return
  throw new ConflictError(describeConflicts(rollout.appId, rollout.name, conflicts), {code: 'rollout_conflict'})
}

/**
 * Makes `next` the rollout's intent: a new rollout (revision 1), a new revision of `current`, or
 * nothing new when it equals the current revision (its devices are still brought in line).
 */
function change(deps: RolloutDeps, current: RolloutRecord | null, next: RolloutRecord, options: ChangeOptions & {cause?: string}): RolloutResult {
  const {store, events} = deps
  const dryRun = options.dryRun === true
  const changed = current ? specChanges(current, next) : []
  const kind: RolloutChange = !current ? 'created' : changed.length === 0 ? 'unchanged' : 'updated'
  const rollout: RolloutRecord = kind === 'unchanged' ? current! : {...next, revision: current ? current.revision + 1 : 1}
  checkOwnership(store, rollout)
  const secrets = deps.secrets ?? NO_SECRETS
  const app = checkRollout(store, rollout, secrets)
  const now = next.updatedAt
  const decisions = planAll(store, rollout, app, now, dryRun, secrets)
  if (!dryRun) {
    const restaged = kind === 'unchanged' && canonicalJson(current!.strategy ?? null) !== canonicalJson(next.strategy ?? null)
    if (restaged) rollout.strategy = next.strategy ?? null
    commit(store, events, rollout, app, decisions, now, () => {
      if (restaged) writeRollout(store, rollout)
      if (kind === 'unchanged') return
      if (kind === 'created') insertRollout(store, rollout)
      else writeRollout(store, rollout)
      insertRevision(store, {...specOf(rollout), rolloutId: rollout.rolloutId, revision: rollout.revision, actor: options.actor ?? DEFAULT_ACTOR, cause: options.cause ?? null, createdAt: now})
    })
  }
  return result(store, rollout, app, decisions, dryRun, {change: kind, changed})
}

/**
 * Checks what a deploy stages and renders per device: the strategy (waves, amounts, durations,
 * rules), the `setFor` selectors, and the templates in every value. Every problem is listed in
 * one refusal, before anything is created.
 */
function checkStaging(input: RolloutInput) {
  const problems: {path: string, message: string}[] = []
  if (input.selector !== undefined) {
    const parsed = parseSelector(input.selector)
    if (!parsed.ok) {
      // A bad selector alone keeps its own code and message, as before staging existed.
      if (!input.strategy && !input.setFor && checkTemplates(input.values ?? {}).length === 0) checkSelector(input.selector)
      problems.push({path: 'selector', message: parsed.error.message})
    }
  }
  const strategy = parseStrategy(input.strategy)
  if (!strategy.ok) problems.push(...strategy.problems)
  const setFor: SetForRequest[] = []
  for (const [i, entry] of (input.setFor ?? []).entries()) {
    const parsed = parseSelector(entry.selector)
    if (!parsed.ok) problems.push({path: `setFor[${i}].selector`, message: describeSelectorError(parsed.error)})
    else setFor.push({selector: formatSelector(parsed.selector), values: entry.values})
    problems.push(...checkTemplates(entry.values, `setFor[${i}].values`))
  }
  problems.push(...checkTemplates(input.values ?? {}))
  if (problems.length > 0) {
    throw invalid('invalid_rollout', `${problems.length} problem(s) in the request; nothing was created or changed`, problems)
  }
  return {setFor, strategy: strategy.ok ? strategy.strategy : null}
}

function checkName(name: string): string {
  if (!isDnsLabel(name)) {
    throw invalid('invalid_name', `rollout name ${JSON.stringify(name)} is not a DNS label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit`,
      [{path: 'name', message: 'not a DNS label'}])
  }
  return name
}

/**
 * `margo deploy`: creates rollout `name` (default: the app id), or updates it when it exists
 * (upgrade or install). The request states the whole intent: version, profile and values as
 * given; the target may be left out to keep the rollout's.
 */
export function createRollout(deps: RolloutDeps, input: RolloutInput, options: ChangeOptions = {}): RolloutResult {
  const {store} = deps
  const now = deps.now().toISOString()
  const name = checkName(input.name ?? defaultNamespace(input.appId))
  const current = getRolloutByName(store, name)
  if (current && current.appId !== input.appId) {
    throw conflict(`rollout ${name} deploys ${current.appId}, not ${input.appId} — choose another --name, or margo undeploy ${name} first`, 'rollout_name_taken')
  }
  const hasDevices = input.devices !== undefined
  const hasSelector = input.selector !== undefined
  if (hasDevices && hasSelector) throw badRequest('give either "devices" (a list of client ids) or "selector" (a label selector; "" selects every device), not both')
  if (!current && !hasDevices && !hasSelector) {
    throw badRequest(`rollout ${name} does not exist yet: name its target, either "devices" (a list of client ids) or "selector" (a label selector; "" selects every device)`)
  }
  const devices = hasDevices ? [...new Set(input.devices)] : []
  if (hasDevices && devices.length === 0) throw badRequest('"devices" is empty; name at least one client id, or use a selector')
  const staging = checkStaging(input)
  const unknown = devices.filter(id => !store.getClient(id))
  if (unknown.length > 0) throw notFound('device', unknown.join(', '), 'run: margo device list')
  const target = hasDevices || hasSelector
    ? {selector: hasSelector ? checkSelector(input.selector!) : null, devices}
    : {selector: current!.selector, devices: current!.devices}
  const next: RolloutRecord = {
    rolloutId: current?.rolloutId ?? randomUUID(),
    name,
    revision: current?.revision ?? 1,
    appId: input.appId,
    appVersion: input.version ?? null,
    ...target,
    profile: input.profile ?? null,
    values: input.values ?? {},
    setFor: staging.setFor,
    strategy: staging.strategy,
    createdAt: current?.createdAt ?? now,
    updatedAt: now,
    deleted: false,
  }
  return change(deps, current, next, options)
}

/** A live rollout by name, or by id. */
export function requireRollout(store: Store, ref: string): RolloutRecord {
  const byName = getRolloutByName(store, ref)
  if (byName) return byName
  const r = getRollout(store, ref)
  if (!r || r.deleted) throw rolloutNotFound(ref)
  return r
}

/** PATCH: merges the given fields into the current intent, as a new revision. */
export function updateRollout(deps: RolloutDeps, ref: string, patch: RolloutPatch, options: ChangeOptions = {}): RolloutResult {
  const now = deps.now().toISOString()
  const current = requireRollout(deps.store, ref)
  if (patch.selector !== undefined && current.selector === null) {
    throw conflict(`rollout ${current.name} lists its devices; a selector cannot replace the list here — run margo deploy ${current.appId} --name ${current.name} --selector … instead`)
  }
  const values = {...current.values}
  for (const [k, v] of Object.entries(patch.values ?? {})) {
    if (v === null) delete values[k]
    else values[k] = v
  }
  const next: RolloutRecord = {
    ...current,
    appVersion: patch.version === undefined ? current.appVersion : patch.version,
    selector: patch.selector === undefined ? current.selector : checkSelector(patch.selector),
    values,
    updatedAt: now,
  }
  return change(deps, current, next, options)
}

/**
 * `margo rollout undo`: a new revision equal to revision `toRevision` (default: the one before
 * the current), rolled out like any change. Values the app version no longer accepts are
 * refused before anything changes.
 */
export function undoRollout(deps: RolloutDeps, ref: string, options: ChangeOptions & {toRevision?: number} = {}): RolloutResult {
  const now = deps.now().toISOString()
  const current = requireRollout(deps.store, ref)
  const revisions = listRevisions(deps.store, current.rolloutId)
  const target = undoTarget(revisions, current.revision, options.toRevision)
  if (!target.ok) throw conflict(`cannot undo rollout ${current.name}: ${target.reason} — see: margo rollout history ${current.name}`, 'no_revision')
  const old = revisions.find(r => r.revision === target.revision)!
  const next: RolloutRecord = {...current, ...specOf(old), updatedAt: now}
  return change(deps, current, next, {...options, cause: `undo to revision ${target.revision}`})
}

export interface RolloutHistory {
  rolloutId: string
  name: string
  appId: string
  revision: number
  history: RolloutRevision[]
}

export function rolloutHistory(store: Store, ref: string): RolloutHistory {
  const r = requireRollout(store, ref)
  return {rolloutId: r.rolloutId, name: r.name, appId: r.appId, revision: r.revision, history: historyOf(listRevisions(store, r.rolloutId))}
}

export interface RemovedDeployment {
  clientId: string
  deploymentId: string
}

export interface RolloutRemovalResult {
  rolloutId: string
  name: string
  removed: RemovedDeployment[]
  /** Set by `forget`: the removals recorded as removed-unconfirmed. */
  forgotten: RemovedDeployment[]
}

/**
 * `margo undeploy N`: deletes the rollout and removes its deployments (the devices report
 * removing, then removed). Nothing else is created or restored. With `forget`, deployments
 * whose removal no device has confirmed are dropped from the fleet view as removed-unconfirmed
 * (for devices that will never report again); that also works once the rollout is gone.
 */
export function deleteRollout({store, events, now: clock}: RolloutDeps, ref: string, options: {forget?: boolean} = {}): RolloutRemovalResult {
  const now = clock().toISOString()
  const live = getRolloutByName(store, ref) ?? (() => {
    const r = getRollout(store, ref)
    return r && !r.deleted ? r : null
  })()
  if (!live) {
    if (!options.forget) throw rolloutNotFound(ref)
    const gone = deletedRolloutsByName(store, ref)
    const byId = getRollout(store, ref)
    const rollout = gone[0] ?? (byId?.deleted ? byId : null)
    if (!rollout) throw rolloutNotFound(ref)
    return {rolloutId: rollout.rolloutId, name: rollout.name, removed: [], forgotten: forgetUnconfirmed(store, rollout.rolloutId, now)}
  }
  const owned = rolloutDeploymentIds(store, live.rolloutId).map(id => store.getDeployment(id)!)
  const changed: DeploymentRecord[] = []
  let forgotten: RemovedDeployment[] = []
  store.transaction(() => {
    writeRollout(store, {...live, deleted: true, updatedAt: now})
    for (const d of owned) {
      const removed: DeploymentRecord = {...d, desired: 'absent', updatedAt: now}
      store.updateDeployment(removed)
      changed.push(removed)
    }
    for (const clientId of new Set(owned.map(d => d.clientId))) publishManifest(store, clientId, now)
    if (options.forget) forgotten = forgetUnconfirmed(store, live.rolloutId, now)
  })
  announce(events, changed)
  return {rolloutId: live.rolloutId, name: live.name, removed: owned.map(d => ({clientId: d.clientId, deploymentId: d.deploymentId})), forgotten}
}

/**
 * Removes one deployment of a rollout: a target change. A listed device is taken off the list
 * (a new revision; the last device removes the rollout). A device a selector covers cannot be
 * taken off one by one. With `forget`, the removal is also recorded as removed-unconfirmed.
 * A deployment that is already removed can only be forgotten.
 */
export function removeDeployment(deps: RolloutDeps, deploymentId: string, options: ChangeOptions & {forget?: boolean} = {}): DeploymentRecord {
  const {store} = deps
  const d = store.getDeployment(deploymentId)
  if (!d) throw notFound('deployment', deploymentId, 'run: margo status')
  const rolloutId = rolloutOfDeployment(store, deploymentId)
  const rollout = rolloutId ? getRollout(store, rolloutId) : null
  if (d.desired === 'present' && rollout && !rollout.deleted) {
    if (rollout.selector !== null) {
      throw conflict(`deployment ${deploymentId} is on device ${d.clientId} because it matches rollout ${rollout.name}'s selector ${JSON.stringify(rollout.selector)} — change the device's labels or the selector, or remove the whole rollout: margo undeploy ${rollout.name}`, 'rollout_target')
    }
    if (rollout.devices.length <= 1 || rollout.devices.every(id => id === d.clientId)) deleteRollout(deps, rollout.rolloutId)
    else {
      const now = deps.now().toISOString()
      change(deps, rollout, {...rollout, devices: rollout.devices.filter(id => id !== d.clientId), updatedAt: now}, {...options, dryRun: false})
    }
  } else if (d.desired === 'present') {
    const now = deps.now().toISOString()
    store.transaction(() => {
      store.updateDeployment({...d, desired: 'absent', updatedAt: now})
      publishManifest(store, d.clientId, now)
    })
    announce(deps.events, [d])
  }
  if (options.forget) {
    const now = deps.now().toISOString()
    const current = store.getDeployment(deploymentId)!
    if (current.desired === 'absent' && store.latestStatus(deploymentId)?.state !== 'removed') store.transaction(() => forgetDeployment(store, deploymentId, now))
  }
  return store.getDeployment(deploymentId)!
}

/** Marks the rollout's removed deployments that no device confirmed (no `removed` report) as forgotten. */
function forgetUnconfirmed(store: Store, rolloutId: string, now: string): RemovedDeployment[] {
  const out: RemovedDeployment[] = []
  for (const id of rolloutDeploymentIds(store, rolloutId, {all: true})) {
    const d = store.getDeployment(id)!
    if (d.desired !== 'absent' || d.forgottenAt) continue
    if (store.latestStatus(id)?.state === 'removed') continue
    forgetDeployment(store, id, now)
    out.push({clientId: d.clientId, deploymentId: d.deploymentId})
  }
  return out
}

/**
 * Brings one device in line with every live rollout (or those of one app): creates, updates
 * and removes deployments in one transaction with one new manifest. Idempotent. Removals go
 * first; then rollouts are served oldest first, so when a device comes to match two rollouts
 * of one app, the one that had it keeps it and the other skips it (no takeover).
 */
export function reconcileDevice({store, events, now, secrets = NO_SECRETS}: RolloutDeps, clientId: string, filter: {appId?: string} = {}): Decision[] {
  return reconcile(store, events, clientId, now().toISOString(), filter, secrets)
}

function reconcile(store: Store, events: Events, clientId: string, now: string, filter: {appId?: string}, secrets: SecretReader): Decision[] {
  // Read and decide inside the write transaction: two serve processes reconciling the same
  // device take turns, and the second sees what the first created.
  return store.transaction(() => reconcileInTransaction(store, events, clientId, now, filter, secrets))
}

function reconcileInTransaction(store: Store, events: Events, clientId: string, now: string, filter: {appId?: string}, secrets: SecretReader): Decision[] {
  const client = store.getClient(clientId)
  if (!client) return []
  const rollouts = listRollouts(store, filter)
  const device = facts(client)
  const apps = new Map<string, AppFacts | {error: string}>()
  const appOf = (r: RolloutRecord) => {
    const key = `${r.appId}@${r.appVersion ?? ''}`
    if (!apps.has(key)) apps.set(key, appFacts(store, r.appId, r.appVersion))
    return apps.get(key)!
  }
  const plan = (r: RolloutRecord) => planDevice({
    rollout: r, device, app: appOf(r), existing: existingOf(store, clientId, r.appId), adopt: false, now, newDeploymentId: randomUUID, secrets,
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
        if (!gate(store, r, runKeyOf(r, appOf(r)), d)) continue
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
export function reconcileApp({store, events, now: clock, secrets = NO_SECRETS}: RolloutDeps, appId: string) {
  if (listRollouts(store, {appId}).length === 0) return
  const now = clock().toISOString()
  for (const client of store.listClients()) reconcile(store, events, client.clientId, now, {appId}, secrets)
}

export function rolloutSummary(r: RolloutRecord) {
  return {
    rolloutId: r.rolloutId, name: r.name, revision: r.revision, appId: r.appId, version: r.appVersion, selector: r.selector, devices: r.devices,
    profile: r.profile, values: showReferences(r.values), createdAt: r.createdAt, updatedAt: r.updatedAt,
    ...(r.setFor && r.setFor.length > 0 ? {setFor: r.setFor} : {}),
    ...(r.strategy ? {strategy: r.strategy} : {}),
  }
}

export function listRolloutSummaries(store: Store, filter: {appId?: string} = {}) {
  return listRollouts(store, filter).map(r => ({...rolloutSummary(r), deployments: rolloutDeploymentIds(store, r.rolloutId).length}))
}

/**
 * A rollout with its deployments (status included by `deploymentView`) and the devices in its
 * scope that have none, with the reason, as a re-evaluation would find them now.
 */
export function rolloutDetail<T>(deps: Pick<RolloutDeps, 'store' | 'now' | 'secrets' | 'lastSeen' | 'thresholds'>, ref: string, deploymentView: (d: DeploymentRecord) => T) {
  const {store, now: clock, secrets} = deps
  const now = clock().toISOString()
  const rollout = requireRollout(store, ref)
  const deployments = store.listDeployments({rolloutId: rollout.rolloutId, desired: 'present'})
  const app = appFacts(store, rollout.appId, rollout.appVersion)
  const skipped: {clientId: string, reason: string}[] = []
  const targeted = new Set(deployments.map(d => d.clientId))
  const existing = existingForApp(store, rollout.appId)
  for (const client of candidates(store, rollout)) {
    if (targeted.has(client.clientId) || !inScope(rollout, client)) continue
    const d = planDevice({
      rollout, device: facts(client), app, existing: existing(client.clientId), adopt: false, now,
      newDeploymentId: () => DRY_RUN_DEPLOYMENT_ID, secrets,
    })
    if (d.action === 'skip') skipped.push({clientId: client.clientId, reason: d.reason})
  }
  const progress = rolloutProgress({...deps, events: {emit: () => {}}}, rollout)
  return {...rolloutSummary(rollout), appVersion: 'error' in app ? null : app.version, targets: deployments.map(deploymentView), skipped, ...(progress ? {progress} : {})}
}

/**
 * A device swap: every live rollout that lists `oldId` lists `newId` in its place, each as a new
 * revision. All are checked (ownership, values) before any is written.
 */
export function replaceListedDevice(deps: RolloutDeps, oldId: string, newId: string, options: ChangeOptions = {}): {name: string, revision: number}[] {
  const listing = listRollouts(deps.store).filter(r => r.selector === null && r.devices.includes(oldId))
  const now = deps.now().toISOString()
  const next = (r: RolloutRecord): RolloutRecord => ({...r, devices: [...new Set(r.devices.map(id => (id === oldId ? newId : id)))], updatedAt: now})
  const cause = `device ${oldId} replaced by ${newId}`
  for (const r of listing) change(deps, r, next(r), {...options, dryRun: true, cause})
  return listing.map(r => {
    const result = change(deps, r, next(r), {...options, dryRun: false, cause})
    return {name: result.name, revision: result.revision}
  })
}

/** Rollouts as the server uses them, bound to their dependencies once. */
export function createRolloutService(deps: RolloutDeps) {
  // A staged rollout lets its first wave through as soon as its revision is written.
  const staged = (r: RolloutResult) => {
    if (!r.dryRun && r.rolloutId) advanceRollout(deps, r.rolloutId)
    return r
  }
  return {
    create: (input: RolloutInput, options: ChangeOptions = {}) => staged(createRollout(deps, input, options)),
    update: (ref: string, patch: RolloutPatch, options: ChangeOptions = {}) => staged(updateRollout(deps, ref, patch, options)),
    undo: (ref: string, options: ChangeOptions & {toRevision?: number} = {}) => staged(undoRollout(deps, ref, options)),
    control: (ref: string, action: 'pause' | 'resume' | 'abort', actor: string) => controlRollout(deps, requireRollout(deps.store, ref), action, actor),
    progress: (ref: string) => rolloutProgress(deps, requireRollout(deps.store, ref)),
    advanceAll: () => advanceAll(deps),
    history: (ref: string) => rolloutHistory(deps.store, ref),
    remove: (ref: string, options: {forget?: boolean} = {}) => deleteRollout(deps, ref, options),
    removeDeployment: (deploymentId: string, options: ChangeOptions & {forget?: boolean} = {}) => removeDeployment(deps, deploymentId, options),
    list: (filter: {appId?: string} = {}) => listRolloutSummaries(deps.store, filter),
    detail: <T>(ref: string, deploymentView: (d: DeploymentRecord) => T) => rolloutDetail(deps, ref, deploymentView),
    reconcileDevice: (clientId: string, filter: {appId?: string} = {}) => reconcileDevice(deps, clientId, filter),
    reconcileApp: (appId: string) => reconcileApp(deps, appId),
    replaceListedDevice: (oldId: string, newId: string, options: ChangeOptions = {}) => replaceListedDevice(deps, oldId, newId, options),
  }
}

export type RolloutService = ReturnType<typeof createRolloutService>
