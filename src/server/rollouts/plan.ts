/**
 * What a rollout means for one device, decided without I/O: create a deployment, update the
 * one it has in place, leave it unchanged, remove it (the device left the rollout's scope), or
 * skip the device with a reason an operator can act on.
 *
 * Rules:
 * - Scope: a selector rollout covers the devices whose labels match; a listed rollout its list.
 * - A device's deployment of the app belongs to at most one rollout, and no rollout takes one
 *   from another: a device another rollout runs the app on is skipped with that rollout named.
 *   A direct deployment (no rollout; same app, same profile type) is adopted only when `adopt`
 *   is set, which is the case for an operator's explicit deploy.
 * - Profile (spec §3.4 step 1): a forced `profile` is used as named, like `margo deploy
 *   --profile`; otherwise the device's roles and reported resources decide. An existing
 *   deployment keeps its profile while the app version still has it.
 * - Values (step 2): the rollout's values over the app's defaults; an immutable setting the
 *   rollout does not set keeps the value the device was installed with, one it sets to another
 *   value is refused.
 */
import type {ApplicationDescription, DeploymentProfile} from '../../margo/package/types.ts'
import {chooseProfile, profileMismatches, type DeviceView} from '../catalog/profiles.ts'
import {NO_SECRETS, resolveWithSecrets, type SecretReader} from '../secrets/resolve.ts'
import {shownYaml} from '../secrets/show.ts'
import type {DeploymentRecord} from '../store/store.ts'
import type {RolloutRecord} from '../store/rollouts-repo.ts'
import {buildApplicationDeployment} from '../deployments/build.ts'
import {sha256Digest} from '../../margo/digest.ts'
import {matchesSelector, parseSelector} from '../../operator-contract/selector.ts'
import {valuesForDevice} from './device-values.ts'

export interface DeviceFacts {
  clientId: string
  enrollment: 'pending' | 'active' | 'revoked'
  labels: Record<string, string>
  /** Reported capabilities; null until the device reports them. */
  view: DeviceView | null
  /** The reported capabilities document, for `${device.capabilities.…}` templates. */
  capabilities?: unknown
}

export interface AppFacts {
  appId: string
  version: string
  description: ApplicationDescription
}

/** A present deployment of the rollout's app on the device, and the rollout that owns it. */
export interface ExistingDeployment {
  deployment: DeploymentRecord
  rolloutId: string | null
  /** The owning rollout's name, to name it in a skip reason. */
  rolloutName?: string
}

export interface Problem {
  path: string
  message: string
  /** The validator's code (e.g. `immutable`), so callers need not read the message. */
  code?: string
}

export type SkipKind = 'fit' | 'values' | 'owned' | 'revoked' | 'app' | 'template'

export type Decision =
  /** `shown`: the YAML with `<secret:NAME>` for each secret, when the values refer to any (dry runs show it). */
  | {action: 'create', clientId: string, record: DeploymentRecord, bytes: Uint8Array, shown?: string}
  | {action: 'update', clientId: string, current: DeploymentRecord, record: DeploymentRecord, bytes: Uint8Array, relink: boolean, shown?: string}
  | {action: 'unchanged', clientId: string, current: DeploymentRecord, relink: boolean}
  | {action: 'remove', clientId: string, current: DeploymentRecord}
  | {action: 'skip', clientId: string, kind: SkipKind, reason: string, problems: Problem[]}
  /** Not in scope and nothing of the rollout's on the device. */
  | {action: 'none', clientId: string}

export interface PlanInput {
  rollout: RolloutRecord
  device: DeviceFacts
  /** The app version the rollout deploys, or why there is none. */
  app: AppFacts | {error: string}
  /** Present deployments of the rollout's app on this device. */
  existing: ExistingDeployment[]
  adopt: boolean
  newDeploymentId: () => string
  now: string
  /** Reads the secrets values refer to; without it a reference is refused as missing. */
  secrets?: SecretReader
}

/** Whether the device is one the rollout targets (an invalid stored selector targets nothing). */
export function inScope(rollout: {selector: string | null, devices: readonly string[]}, device: Pick<DeviceFacts, 'clientId' | 'labels'>): boolean {
  if (rollout.selector === null) return rollout.devices.includes(device.clientId)
  const parsed = parseSelector(rollout.selector)
  return parsed.ok && matchesSelector(parsed.selector, device.labels)
}

/** Parameters bound to an immutable setting. */
export function immutableParameters(description: ApplicationDescription): Set<string> {
  const out = new Set<string>()
  for (const section of description.configuration?.sections ?? []) {
    for (const setting of section.settings) if (setting.immutable) out.add(setting.parameter)
  }
  return out
}

const skip = (clientId: string, kind: SkipKind, reason: string, problems: Problem[] = []): Decision =>
  ({action: 'skip', clientId, kind, reason, problems})

/** Whether the operator's profile choice (an id or a type) allows this profile. */
function profileAllowed(wanted: string | null, profile: {id: string, type: string}): boolean {
  if (!wanted) return true
  if (wanted === profile.id) return true
  const type = wanted === 'helm' ? 'helm.v3' : wanted
  return type === profile.type
}

function pickProfile(input: PlanInput, app: AppFacts, current: DeploymentRecord | undefined): {ok: true, profile: DeploymentProfile} | {ok: false, reason: string} {
  const {rollout, device} = input
  const kept = current && app.description.deploymentProfiles.find(p => p.id === current.profileId)
  if (kept && profileAllowed(rollout.profile, kept)) {
    // The operator forced a profile: run it as named, as a single-device deploy does.
    const mismatches = rollout.profile || !device.view ? [] : profileMismatches(kept, device.view)
    if (mismatches.length === 0) return {ok: true, profile: kept}
    return {ok: false, reason: `${app.appId}@${app.version} does not fit: ${mismatches.join('; ')}; deployment ${current.deploymentId} stays at ${current.appVersion}`}
  }
  // A forced profile skips capability matching, so that an operator can deploy before a device reports.
  const chosen = chooseProfile(app.description, rollout.profile ? null : device.view, rollout.profile ?? undefined)
  if (chosen.ok) return chosen
  return {ok: false, reason: chosen.reasons.join('; ')}
}

export function planDevice(input: PlanInput): Decision {
  const {rollout, device, existing} = input
  const clientId = device.clientId
  const ours = existing.find(e => e.rolloutId === rollout.rolloutId)?.deployment

  if (!inScope(rollout, device)) return ours ? {action: 'remove', clientId, current: ours} : {action: 'none', clientId}
  if (device.enrollment === 'revoked') return skip(clientId, 'revoked', 'the device is revoked')
  if ('error' in input.app) return skip(clientId, 'app', input.app.error)
  const app = input.app

  // A device runs one rollout of an app: another rollout's deployment is never taken. A direct
  // deployment (no rollout) of the same profile type is adopted by an explicit deploy only.
  let current = ours
  let relink = false
  if (!current) {
    const owned = existing.find(e => e.rolloutId !== null && e.rolloutId !== rollout.rolloutId)
    if (owned) {
      const owner = owned.rolloutName ?? owned.rolloutId
      return skip(clientId, 'owned', `the device already runs ${app.appId} as deployment ${owned.deployment.deploymentId} of rollout ${owner}, which keeps it`)
    }
    const profile = pickProfile(input, app, undefined)
    const direct = profile.ok ? existing.find(e => e.rolloutId === null && e.deployment.profileType === profile.profile.type) : undefined
    if (direct) {
      if (!input.adopt) return skip(clientId, 'owned', `the device already runs ${app.appId} as deployment ${direct.deployment.deploymentId} of a direct deploy`)
      current = direct.deployment
      relink = true
    }
  }

  const profile = pickProfile(input, app, current)
  if (!profile.ok) return skip(clientId, 'fit', profile.reason)

  const previous = current ? (JSON.parse(current.valuesJson) as {user: Record<string, unknown>, resolved: Record<string, unknown>}) : null
  const own = valuesForDevice(rollout.values, rollout.setFor ?? [], {clientId, labels: device.labels, capabilities: device.capabilities ?? null})
  if (!own.ok) {
    return skip(clientId, 'template', `a template does not resolve on this device: ${own.problems.map(p => `${p.path} ${p.message}`).join('; ')}`, own.problems)
  }
  const user: Record<string, unknown> = own.values
  // Installed immutable values fill in for the ones the rollout leaves unset; they are not
  // stored as the operator's values, so a later explicit value is still checked against them.
  const given: Record<string, unknown> = {...user}
  if (previous) {
    for (const name of immutableParameters(app.description)) {
      if (!Object.hasOwn(given, name) && Object.hasOwn(previous.resolved, name)) given[name] = previous.resolved[name]
    }
  }
  const resolved = resolveWithSecrets(app.description, given, input.secrets ?? NO_SECRETS, previous ? {values: previous.resolved, applied: true} : undefined)
  if (!resolved.ok) {
    const problems = resolved.errors.map(e => ({path: e.field, message: e.message, ...(e.code ? {code: e.code} : {})}))
    return skip(clientId, 'values', `parameter values are invalid for this device: ${problems.map(p => `${p.path} ${p.message}`).join('; ')}`, problems)
  }

  const deploymentId = current?.deploymentId ?? input.newDeploymentId()
  const built = buildApplicationDeployment({description: app.description, profile: profile.profile, deploymentId, values: resolved.rendered})
  const digest = sha256Digest(built.bytes)
  const valuesJson = JSON.stringify({user, resolved: resolved.stored})
  const shown = shownYaml(app.description, profile.profile, deploymentId, resolved.stored)

  if (!current) {
    return {
      action: 'create', clientId, bytes: built.bytes, ...(shown !== null ? {shown} : {}),
      record: {
        deploymentId, clientId, appId: app.appId, appVersion: app.version, profileId: profile.profile.id, profileType: profile.profile.type,
        valuesJson, digest, desired: 'present', createdAt: input.now, updatedAt: input.now,
      },
    }
  }
  const same = current.appVersion === app.version && current.profileId === profile.profile.id && current.valuesJson === valuesJson
  if (same && current.digest === digest) return {action: 'unchanged', clientId, current, relink}
  return {
    action: 'update', clientId, current, relink, bytes: built.bytes, ...(shown !== null ? {shown} : {}),
    // Same YAML: the device has nothing to apply and will not report again, so the status it
    // reported stays current and updatedAt keeps marking the last change it has to act on.
    record: {
      ...current, appVersion: app.version, profileId: profile.profile.id, profileType: profile.profile.type, valuesJson, digest,
      updatedAt: current.digest === digest ? current.updatedAt : input.now,
    },
  }
}
