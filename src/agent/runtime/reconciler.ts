import {rm} from 'node:fs/promises'
import {parseApplicationDeployment, type ApplicationDeployment} from '../../margo/deployment.ts'
import {aggregateState, type DeploymentState} from '../../margo/status.ts'
import {planReconcile, type WorkloadView} from '../reconcile/plan.ts'
import {backoffDelay} from '../schedule/backoff.ts'
import {loadAccepted} from '../state/accepted.ts'
import {hostMayHaveChanged, type WorkloadRecord} from '../state/workloads.ts'
import {buildStatusReport} from '../sync/status-report.ts'
import type {ComponentResult, ReportedError} from '../types.ts'
import type {AgentContext} from './context.ts'
import {NEVER} from './sync-cycle.ts'
import {tryFlushOutbox} from './status-sender.ts'

/** Failed deployments are retried locally, backing off up to this long between attempts. */
const RETRY_CAP_MS = 60 * 60 * 1000

const toView = (r: WorkloadRecord): WorkloadView => ({
  deploymentId: r.deploymentId, digest: r.digest, state: r.state, nextAttemptAt: r.nextAttemptAt,
  intent: r.intent ? {action: r.intent.action, digest: r.intent.digest} : null, lastAction: r.lastAction ?? null,
  hostChanged: hostMayHaveChanged(r),
})

/**
 * Bring the device in line with the adopted manifest: plan (pure), then act one deployment at a
 * time through its driver. Before a driver runs, the intent is written to disk; after it, the
 * outcome. Reports go to the outbox as each component changes state.
 */
export class Reconciler {
  /** Reports are sent in the background, one flush at a time, so a slow network never stalls a driver. */
  private flushing: Promise<void> = Promise.resolve()

  constructor(private readonly ctx: AgentContext) {}

  async run(signal?: AbortSignal): Promise<number> {
    const accepted = loadAccepted(this.ctx.state)
    const desired = (accepted?.manifest.deployments ?? []).map(d => ({deploymentId: d.deploymentId, digest: d.digest}))
    const actions = planReconcile(desired, this.ctx.workloads.all().map(toView), this.ctx.now())
    for (const action of actions) {
      if (signal?.aborted) break
      if (action.kind === 'forget') this.ctx.workloads.delete(action.deploymentId)
      else if (action.kind === 'apply') await this.apply(action.deploymentId, action.digest, action.reason)
      else if (action.kind === 'discard') await this.discard(action.deploymentId, action.digest)
      else await this.remove(action.deploymentId, action.digest, action.reason)
    }
    await this.flushing
    return actions.length
  }

  /** Wait for reports queued by driver callbacks to be handed to the outbox sender. */
  settled(): Promise<void> {
    return this.flushing
  }

  /** The last report queued per deployment: a driver repeating a state must not produce a second, identical report. */
  private lastReport = new Map<string, string>()

  private report(deploymentId: string, components: ComponentResult[], error?: ReportedError) {
    const report = buildStatusReport(deploymentId, components, error)
    const text = JSON.stringify(report)
    if (this.lastReport.get(deploymentId) === text) return this.flushing
    this.lastReport.set(deploymentId, text)
    this.ctx.outbox.put(report)
    this.flushing = this.flushing.then(() => tryFlushOutbox(this.ctx)).catch(err => {
      this.ctx.log.warn('status.flush_failed', {error: err instanceof Error ? err.message : String(err)})
    })
    return this.flushing
  }

  private load(deploymentId: string, digest: string): {ok: true, doc: ApplicationDeployment} | {ok: false, error: ReportedError} {
    const bytes = this.ctx.workloads.loadYaml(deploymentId, digest)
    if (!bytes) return {ok: false, error: {code: 'ARTIFACT_MISSING', message: `the YAML ${digest} is not in the state directory`}}
    const parsed = parseApplicationDeployment(new TextDecoder().decode(bytes))
    if (!parsed.ok) return {ok: false, error: {code: 'INVALID_DEPLOYMENT', message: parsed.errors.map(e => `${e.field}: ${e.message}`).join('; ')}}
    return {ok: true, doc: parsed.value}
  }

  private failedRecord(previous: WorkloadRecord | undefined, base: Omit<WorkloadRecord, 'attempts' | 'nextAttemptAt'>, error: ReportedError, retry: boolean): WorkloadRecord {
    const attempts = (previous?.attempts ?? 0) + 1
    const nextAttemptAt = retry ? new Date(this.ctx.now().getTime() + backoffDelay(attempts, {capMs: RETRY_CAP_MS, rng: this.ctx.rng})).toISOString() : NEVER
    return {...base, state: 'failed', attempts, nextAttemptAt, lastError: error}
  }

  private async apply(deploymentId: string, digest: string, reason: string) {
    const ctx = this.ctx
    const previous = ctx.workloads.get(deploymentId) ?? undefined
    const loaded = this.load(deploymentId, digest)
    if (!loaded.ok) {
      ctx.log.error('deploy.failed', {deploymentId, code: loaded.error.code, reason: loaded.error.message})
      ctx.workloads.put(this.failedRecord(previous, {deploymentId, digest, profileType: null, components: [], state: 'failed', intent: null, lastAction: 'apply', hostChanged: hostMayHaveChanged(previous)}, loaded.error, false))
      this.report(deploymentId, [], loaded.error)
      return
    }
    const doc = loaded.doc
    const type = doc.spec.deploymentProfile.type
    // The first component starts: the deployment is `installing`. That report is sent (when the
    // WFM is reachable) before the driver runs, so a fast apply cannot hide it behind its outcome.
    const components: ComponentResult[] = doc.spec.deploymentProfile.components.map((c, i) => ({name: c.name, state: i === 0 ? 'installing' : 'pending'}))
    const record: WorkloadRecord = {
      deploymentId, digest, profileType: type, components, state: 'installing', attempts: previous?.attempts ?? 0, nextAttemptAt: null,
      intent: {action: 'apply', digest, since: ctx.now().toISOString()}, lastAction: previous?.lastAction ?? null,
      hostChanged: hostMayHaveChanged(previous),
    }
    ctx.workloads.put(record)
    ctx.log.info('deploy.installing', {deploymentId, digest, profile: type, reason})
    await this.report(deploymentId, [...components])

    const onComponent = (result: ComponentResult) => {
      const i = components.findIndex(c => c.name === result.name)
      if (i >= 0) components[i] = result
      ctx.workloads.put({...record, components: [...components]})
      this.report(deploymentId, [...components])
    }
    // Durable before the tool starts: a kill right after it still leaves the removal to run the tool.
    const changingHost = () => {
      if (record.hostChanged) return
      record.hostChanged = true
      ctx.workloads.put({...record, components: [...components]})
    }
    const started = performance.now()
    const results = await ctx.drivers[type].apply(doc, {...ctx.driverContext(deploymentId), changingHost}, onComponent)
    const state: DeploymentState = aggregateState(results.map(r => r.state))
    ctx.metrics?.applied(type, state, (performance.now() - started) / 1000)
    // A component reported installed is on the host whether or not its driver announced it.
    const hostChanged = record.hostChanged || results.some(r => r.state === 'installed')
    const base = {deploymentId, digest, profileType: type, components: results, intent: null, lastAction: 'apply' as const, hostChanged}
    if (state === 'failed') {
      const error = results.find(r => r.error)?.error ?? {code: 'APPLY_FAILED', message: 'a component failed'}
      ctx.workloads.put(this.failedRecord(previous, {...base, state}, error, true))
      ctx.log.error('deploy.failed', {deploymentId, digest, code: error.code, reason: error.message})
    } else {
      ctx.workloads.put({...base, state, attempts: 0, nextAttemptAt: null})
      ctx.workloads.pruneYamls(deploymentId, digest)
      ctx.log.info(`deploy.${state}`, {deploymentId, digest})
    }
    this.report(deploymentId, results)
  }

  private async remove(deploymentId: string, digest: string, reason: string) {
    const ctx = this.ctx
    const previous = ctx.workloads.get(deploymentId) ?? undefined
    const loaded = this.load(deploymentId, digest)
    if (!loaded.ok) {
      // Nothing this device can act on was ever installed from it: there is nothing to remove.
      ctx.log.warn('deploy.removed', {deploymentId, note: `nothing to remove: ${loaded.error.message}`})
      ctx.workloads.put({deploymentId, digest, profileType: null, components: [], state: 'removed', intent: null, attempts: 0, nextAttemptAt: null, lastAction: 'remove', hostChanged: false})
      this.report(deploymentId, previous?.components.map(c => ({name: c.name, state: 'removed' as const})) ?? [])
      return
    }
    const doc = loaded.doc
    const type = doc.spec.deploymentProfile.type
    const components: ComponentResult[] = doc.spec.deploymentProfile.components.map(c => ({name: c.name, state: 'removing'}))
    const record: WorkloadRecord = {
      deploymentId, digest, profileType: type, components, state: 'removing', attempts: previous?.attempts ?? 0, nextAttemptAt: null,
      intent: {action: 'remove', digest, since: ctx.now().toISOString()}, lastAction: previous?.lastAction ?? null,
      hostChanged: true,
    }
    ctx.workloads.put(record)
    ctx.log.info('deploy.removing', {deploymentId, digest, reason})
    await this.report(deploymentId, [...components])

    const onComponent = (result: ComponentResult) => {
      const i = components.findIndex(c => c.name === result.name)
      if (i >= 0) components[i] = result
      ctx.workloads.put({...record, components: [...components]})
    }
    const results = await ctx.drivers[type].remove(doc, ctx.driverContext(deploymentId), onComponent)
    const state = aggregateState(results.map(r => r.state))
    const base = {deploymentId, digest, profileType: type, components: results, intent: null, lastAction: 'remove' as const}
    if (state === 'failed') {
      const error = results.find(r => r.error)?.error ?? {code: 'REMOVE_FAILED', message: 'a component could not be removed'}
      ctx.workloads.put(this.failedRecord(previous, {...base, state, hostChanged: true}, error, true))
      ctx.log.error('deploy.remove_failed', {deploymentId, code: error.code, reason: error.message})
    } else {
      ctx.workloads.put({...base, state: 'removed', attempts: 0, nextAttemptAt: null, hostChanged: false})
      ctx.log.info('deploy.removed', {deploymentId})
    }
    this.report(deploymentId, results)
  }

  /**
   * A deployment no tool ever acted on leaves the device without its driver: it reports
   * `removing` then `removed`, and its private directory (values files, a refused package) goes.
   * Cut short, the next pass does it again; nothing here touches the host.
   */
  private async discard(deploymentId: string, digest: string) {
    const ctx = this.ctx
    const previous = ctx.workloads.get(deploymentId)
    const names = previous?.components.map(c => c.name) ?? []
    const base = {deploymentId, digest, profileType: previous?.profileType ?? null, intent: null, attempts: 0, nextAttemptAt: null, lastAction: 'remove' as const, hostChanged: false}
    const removing = names.map(name => ({name, state: 'removing' as const}))
    ctx.workloads.put({...base, components: removing, state: 'removing'})
    ctx.log.info('deploy.removing', {deploymentId, digest, reason: 'never-installed'})
    await this.report(deploymentId, removing)
    const workDir = ctx.driverContext(deploymentId).workDir
    await rm(workDir, {recursive: true, force: true}).catch(e => ctx.log.warn('deploy.cleanup_failed', {deploymentId, dir: workDir, error: (e as Error).message}))
    const removed = names.map(name => ({name, state: 'removed' as const}))
    ctx.workloads.put({...base, components: removed, state: 'removed'})
    ctx.log.info('deploy.removed', {deploymentId, note: 'nothing was installed on this device'})
    this.report(deploymentId, removed)
  }
}
