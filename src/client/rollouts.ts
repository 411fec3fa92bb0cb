/**
 * Fleet operations of the operator API: device labels, rollouts (deploy to devices or a live
 * label selector, dry run, in-place updates), waiting for a rollout to be installed, and
 * undeploy by rollout or deployment id.
 */
import {parseDuration} from '../util/duration.ts'
import {parseLabelArguments} from '../operator-contract/labels.ts'
import {describeSelectorError, parseSelector} from '../operator-contract/selector.ts'
import {parseAppRef, parseSetValues, readValuesFile} from './deploy.ts'
import {InterruptedError, NotFoundError, OperationError, UsageError, ValidationError} from '../util/errors.ts'
import type {OperatorClient} from './operator-client.ts'
import {buildStrategy, parseSetFor, type StrategyFlags} from './strategy.ts'
import type {RolloutProgress, UpdateWindow, UpdateWindowRequest} from '../operator-contract/strategy.ts'
import type {Deployment, DeploymentState, Device, IdKind, IdMatch, RolloutDetail, RolloutHistory, RolloutRemoval, RolloutResult, RolloutSummary, RolloutTarget} from '../operator-contract/views.ts'
import type {RolloutPatchRequest, RolloutRequest, RolloutUndoRequest} from '../operator-contract/requests.ts'

export interface FleetDeployOptions {
  /** `appId` or `appId@version` (pinned; without it the rollout follows the latest version). */
  app: string
  /** The rollout's name; default: the app id. An existing rollout of that name is updated. */
  name?: string
  devices?: string[]
  selector?: string
  profile?: string
  set?: string[]
  valuesFile?: string
  dryRun?: boolean
  /** Wait until every target is installed or one failed. */
  wait?: boolean
  /** For --wait: `300`, `90s`, `5m`. */
  timeout?: string
  /** `--set-for SELECTOR key=value` arguments. */
  setFor?: string[]
  strategy?: StrategyFlags
}

export const DEFAULT_WAIT_TIMEOUT = '5m'

const enc = encodeURIComponent

/** Checks the target flags and values locally, so mistakes are reported before any request. */
export function buildRolloutRequest(options: FleetDeployOptions, fileValues?: Record<string, unknown>): RolloutRequest {
  const {appId, version} = parseAppRef(options.app)
  const devices = options.devices ?? []
  const hasSelector = options.selector !== undefined
  if (devices.length === 0 && !hasSelector) {
    throw new UsageError(`name the target: --device CLIENT_ID (repeatable) or --selector 'site=plant-7' ("--selector=" selects every device) — see: margo deploy --help`)
  }
  if (devices.length > 0 && hasSelector) {
    throw new UsageError('give either --device or --selector, not both: a rollout targets a list of devices or a live selector')
  }
  if (hasSelector) {
    const parsed = parseSelector(options.selector!)
    if (!parsed.ok) throw new UsageError(`--selector ${JSON.stringify(options.selector)}: ${describeSelectorError(parsed.error)}`)
  }
  const setValues = parseSetValues(options.set ?? [])
  const hasValues = fileValues !== undefined || Object.keys(setValues).length > 0
  const setFor = parseSetFor(options.setFor ?? [])
  const strategy = options.strategy ? buildStrategy(options.strategy) : undefined
  return {
    ...(options.name ? {name: options.name} : {}),
    appId,
    ...(version ? {version} : {}),
    ...(hasSelector ? {selector: options.selector!} : {devices: [...new Set(devices)]}),
    ...(options.profile ? {profile: options.profile} : {}),
    ...(hasValues ? {values: {...fileValues, ...setValues}} : {}),
    ...(setFor.length > 0 ? {setFor} : {}),
    ...(strategy ? {strategy} : {}),
    ...(options.dryRun ? {dryRun: true} : {}),
  }
}

export function createRollout(client: OperatorClient, request: RolloutRequest): Promise<RolloutResult> {
  const single = request.devices?.length === 1 ? request.devices[0] : undefined
  return client.call('POST', '/rollouts', {
    body: request,
    appId: request.appId,
    ...(request.version ? {version: request.version} : {}),
    ...(single ? {clientId: single} : {}),
    inputHint: `check the values and profile against: margo app show ${request.appId}`,
  })
}

export async function listRollouts(client: OperatorClient, filter: {appId?: string} = {}): Promise<RolloutSummary[]> {
  return (await client.call<{rollouts: RolloutSummary[]}>('GET', '/rollouts', {query: {appId: filter.appId}})).rollouts
}

export function getRollout(client: OperatorClient, rolloutId: string): Promise<RolloutDetail> {
  return client.call('GET', `/rollouts/${enc(rolloutId)}`)
}

export function updateRollout(client: OperatorClient, rolloutId: string, patch: RolloutPatchRequest): Promise<RolloutResult> {
  return client.call('PATCH', `/rollouts/${enc(rolloutId)}`, {body: patch, inputHint: 'check the values against the app: margo app show <appId>'})
}

export function deleteRollout(client: OperatorClient, rollout: string, options: {forget?: boolean} = {}): Promise<RolloutRemoval> {
  return client.call('DELETE', `/rollouts/${enc(rollout)}`, options.forget ? {query: {forget: 'true'}} : {})
}

/** Revisions of a rollout (by name or id), oldest first, values redacted. */
export function rolloutHistory(client: OperatorClient, rollout: string): Promise<RolloutHistory> {
  return client.call('GET', `/rollouts/${enc(rollout)}/revisions`)
}

/** A new revision equal to an older one (default: the previous), rolled out like any change. */
export function undoRollout(client: OperatorClient, rollout: string, request: RolloutUndoRequest = {}): Promise<RolloutResult> {
  return client.call('POST', `/rollouts/${enc(rollout)}/undo`, {body: request, inputHint: `the values of that revision no longer fit the app; see: margo rollout history ${rollout}`})
}

/** `margo rollout pause|resume|abort`. */
export function controlRollout(client: OperatorClient, rollout: string, action: 'pause' | 'resume' | 'abort'): Promise<RolloutProgress> {
  return client.call('POST', `/rollouts/${enc(rollout)}/${action}`, {body: {}})
}

export async function listWindows(client: OperatorClient): Promise<UpdateWindow[]> {
  return (await client.call<{windows: UpdateWindow[]}>('GET', '/windows')).windows
}

export function addWindow(client: OperatorClient, request: UpdateWindowRequest): Promise<UpdateWindow> {
  return client.call('POST', '/windows', {body: request})
}

export function removeWindow(client: OperatorClient, name: string): Promise<{name: string}> {
  return client.call('DELETE', `/windows/${enc(name)}`)
}

// ---- waiting ------------------------------------------------------------------------------

export type TargetState = DeploymentState | 'unreported'

export interface TargetProgress {
  clientId: string
  deploymentId: string
  state: TargetState
  error?: {code: string; message: string}
}

export interface WaitProgress {
  targets: TargetProgress[]
  installed: number
  failed: TargetProgress[]
  done: boolean
}

/**
 * Where each target stands. A report counts only if it came after the deployment's last
 * change: an in-place update is not installed until the device reports again.
 */
export function waitProgress(targets: readonly {clientId: string; deploymentId: string}[], current: readonly Deployment[]): WaitProgress {
  const byId = new Map(current.map(d => [d.deploymentId, d]))
  const states = targets.map((t): TargetProgress => {
    const d = byId.get(t.deploymentId)
    const status = d?.status
    if (!d || !status || status.reportedAt < d.updatedAt) return {...t, state: 'unreported'}
    const error = status.error && 'code' in status.error ? {code: status.error.code, message: status.error.message} : undefined
    return {...t, state: status.state, ...(error ? {error} : {})}
  })
  const installed = states.filter(s => s.state === 'installed').length
  const failed = states.filter(s => s.state === 'failed')
  return {targets: states, installed, failed, done: failed.length > 0 || installed === states.length}
}

export type WaitOutcome =
  | {outcome: 'installed'; progress: WaitProgress}
  | {outcome: 'failed'; progress: WaitProgress}
  | {outcome: 'timeout'; progress: WaitProgress}
  /** Stopped by the operator; `follow` is the id `margo status` follows the rollout with. */
  | {outcome: 'interrupted'; progress: WaitProgress; rolloutId: string; follow: string}

export interface WaitOptions {
  timeoutMs: number
  intervalMs?: number
  onProgress?: (progress: WaitProgress) => void
  sleep?: (ms: number) => Promise<void>
  now?: () => number
  /** Ends the wait (Ctrl-C) without touching the rollout. */
  signal?: AbortSignal
}

const ABORTED = Symbol('aborted')

/** `work`, or ABORTED as soon as `signal` fires: a poll or a sleep must not hold up Ctrl-C. */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof ABORTED> {
  if (!signal) return work
  if (signal.aborted) return Promise.resolve(ABORTED)
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED)
    signal.addEventListener('abort', onAbort, {once: true})
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/**
 * Polls the rollout once a second until every target is installed, one failed, time runs out
 * or the signal aborts.
 */
export async function waitForRollout(client: OperatorClient, result: RolloutResult, options: WaitOptions): Promise<WaitOutcome> {
  const targets = result.targets.filter((t): t is RolloutTarget & {deploymentId: string} => t.deploymentId !== null)
  const sleep = options.sleep ?? ((ms: number) => Bun.sleep(ms))
  const now = options.now ?? Date.now
  const deadline = now() + options.timeoutMs
  let progress = waitProgress(targets, [])
  const interrupted = (): WaitOutcome => ({
    outcome: 'interrupted', progress, rolloutId: result.rolloutId!,
    // One target: its deployment; several: the app, whose status lists them all.
    follow: targets.length === 1 ? targets[0]!.deploymentId : result.appId,
  })
  for (;;) {
    const detail = await unlessAborted(getRollout(client, result.rolloutId!), options.signal)
    if (detail === ABORTED) return interrupted()
    progress = waitProgress(targets, detail.targets)
    options.onProgress?.(progress)
    if (progress.failed.length > 0) return {outcome: 'failed', progress}
    if (progress.done) return {outcome: 'installed', progress}
    if (now() >= deadline) return {outcome: 'timeout', progress}
    if (await unlessAborted(sleep(Math.min(options.intervalMs ?? 1000, Math.max(0, deadline - now()))), options.signal) === ABORTED) return interrupted()
  }
}

export function parseTimeout(text: string): number {
  try {
    return parseDuration(text)
  } catch (err) {
    throw new UsageError(`--timeout: ${(err as Error).message}`, {cause: err})
  }
}

/** The error a failed or timed-out wait ends the command with (exit 1), or an interrupted one (exit 130). */
export function waitFailure(outcome: WaitOutcome, timeout: string): OperationError | InterruptedError | null {
  if (outcome.outcome === 'installed') return null
  if (outcome.outcome === 'interrupted') {
    return new InterruptedError(`interrupted — rollout ${outcome.rolloutId} continues on the server; follow it with: margo status ${outcome.follow} --watch`, {code: 'interrupted'})
  }
  const {progress} = outcome
  if (outcome.outcome === 'failed') {
    const first = progress.failed[0]!
    const more = progress.failed.length > 1 ? ` (and ${progress.failed.length - 1} more)` : ''
    const why = first.error ? `${first.error.code}: ${first.error.message}` : 'no error reported'
    return new OperationError(`deployment ${first.deploymentId} failed on device ${first.clientId}${more}: ${why} — see: margo status --device ${first.clientId}`, {code: 'deployment_failed'})
  }
  const waiting = progress.targets.filter(t => t.state !== 'installed')
  const list = waiting.slice(0, 3).map(t => `${t.clientId} (${t.state})`).join(', ')
  return new OperationError(
    `timed out after ${timeout}: ${progress.installed} of ${progress.targets.length} installed; still waiting on ${list}${waiting.length > 3 ? ', …' : ''} — check that the devices are online, or wait longer with --timeout`,
    {code: 'timeout'},
  )
}

// ---- the deploy command -------------------------------------------------------------------

export interface FleetDeployHooks {
  /** Called once the rollout is created (or previewed), before any waiting. */
  onResult?: (result: RolloutResult) => void
  onProgress?: (progress: WaitProgress) => void
  sleep?: (ms: number) => Promise<void>
  /** Stops waiting (Ctrl-C); the rollout itself goes on. */
  signal?: AbortSignal
}

export interface FleetDeployOutcome {
  result: RolloutResult
  wait?: WaitOutcome
  /** Why the command must end with exit 1 (or 130 when interrupted), if it must. */
  failure: OperationError | InterruptedError | null
}

/** `margo deploy`: create the rollout (or preview it), then optionally wait for it. */
export async function deployToFleet(client: OperatorClient, options: FleetDeployOptions, hooks: FleetDeployHooks = {}): Promise<FleetDeployOutcome> {
  const timeout = options.timeout ?? DEFAULT_WAIT_TIMEOUT
  const timeoutMs = parseTimeout(timeout)
  const fileValues = options.valuesFile ? readValuesFile(options.valuesFile) : undefined
  const result = await createRollout(client, buildRolloutRequest(options, fileValues))
  hooks.onResult?.(result)
  if (!options.wait || options.dryRun) return {result, failure: null}
  if (result.targets.length === 0) {
    const failure = result.skipped.length > 0
      ? new OperationError(`nothing to wait for: every device was skipped (${result.skipped.length}) — see the reasons above`, {code: 'nothing_deployed'})
      : null
    return {result, failure}
  }
  const wait = await waitForRollout(client, result, {timeoutMs, ...(hooks.onProgress ? {onProgress: hooks.onProgress} : {}), ...(hooks.sleep ? {sleep: hooks.sleep} : {}), ...(hooks.signal ? {signal: hooks.signal} : {})})
  return {result, wait, failure: waitFailure(wait, timeout)}
}

// ---- undeploy and labels -------------------------------------------------------------------

export type UndeployResult =
  | {kind: 'rollout'; rolloutId: string; name: string; removed: {clientId: string; deploymentId: string}[]; forgotten: {clientId: string; deploymentId: string}[]}
  | {kind: 'deployment'; deployment: Deployment}

/** Length of a full id (a UUID); anything shorter is a prefix the server resolves. */
const FULL_ID_LENGTH = 36

/**
 * The full id and kind a typed id names among `kinds` (GET /ids/{prefix}): for a command that
 * must know the kind before it acts. Routes that take one kind of id resolve prefixes themselves.
 */
export function resolveId(client: OperatorClient, id: string, kinds: readonly IdKind[]): Promise<IdMatch> {
  return client.call('GET', `/ids/${enc(id)}`, {query: {kinds: kinds.join(',')}})
}

/**
 * Removes a rollout (by name, id or id prefix; all its deployments) or a single deployment,
 * whichever the argument names. A shortened id is resolved across both kinds first, so a prefix
 * that a rollout and a deployment share is refused rather than deleting whichever is tried
 * first; what is no id is taken as a rollout's name. A rollout's single deployment goes by taking
 * its device off the rollout's list (a new revision). `forget` also records removals no device
 * confirmed as removed-unconfirmed, for devices that will never report again; it also works on
 * a rollout already undeployed.
 */
export async function undeploy(client: OperatorClient, typed: string, options: {forget?: boolean} = {}): Promise<UndeployResult> {
  const removeRollout = async (ref: string): Promise<UndeployResult> => {
    const r = await deleteRollout(client, ref, options)
    return {kind: 'rollout', rolloutId: r.rolloutId, name: r.name, removed: r.removed, forgotten: r.forgotten ?? []}
  }
  const removeDeployment = async (id: string): Promise<UndeployResult> => ({
    kind: 'deployment',
    deployment: options.forget ? await client.call<Deployment>('DELETE', `/deployments/${enc(id)}`, {query: {forget: 'true'}}) : await client.deleteDeployment(id),
  })
  const notFound = (cause: unknown) => new NotFoundError(`no rollout or deployment ${typed} — run: margo status`, {code: 'not_found', cause})
  let id = typed
  if (typed.length < FULL_ID_LENGTH) {
    try {
      const found = await resolveId(client, typed, ['rollout', 'deployment'])
      if (found.kind === 'deployment') return await removeDeployment(found.id)
      id = found.id
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err
      // Not an id: a rollout's name (the server looks it up, also an undeployed one for --forget).
      try {
        return await removeRollout(typed)
      } catch (inner) {
        if (inner instanceof NotFoundError) throw notFound(inner)
        throw inner
      }
    }
  }
  try {
    return await removeRollout(id)
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err
  }
  try {
    return await removeDeployment(id)
  } catch (err) {
    if (err instanceof NotFoundError) throw notFound(err)
    throw err
  }
}

/** `margo device label`: `key=value` sets a label, `key-` removes it; other labels stay. */
export function labelDevice(client: OperatorClient, clientId: string, args: readonly string[]): Promise<Device> {
  if (args.length === 0) throw new UsageError('give at least one label: key=value to set, key- to remove — e.g. margo device label DEVICE site=plant-7')
  const parsed = parseLabelArguments(args)
  if (!parsed.ok) {
    throw new ValidationError('invalid label arguments — keys are [prefix/]name, values at most 63 characters of letters, digits, \'-\', \'_\' and \'.\'', parsed.problems)
  }
  return client.call('PATCH', `/devices/${enc(clientId)}/labels`, {body: {labels: parsed.patch}, clientId})
}

