import type {ApplicationDeployment} from '../../margo/deployment.ts'
import type {DeploymentRef, StateManifest} from '../../margo/manifest.ts'
import {loadAccepted, saveAccepted} from '../state/accepted.ts'
import {checkDeploymentYaml, DIGEST_MISMATCH_FIELD} from '../sync/artifact.ts'
import {readBundle} from '../sync/bundle.ts'
import {diffManifests} from '../sync/diff.ts'
import {chooseFetch} from '../sync/fetch-plan.ts'
import {evaluateManifest} from '../sync/manifest-check.ts'
import {buildStatusReport} from '../sync/status-report.ts'
import type {AgentContext} from './context.ts'
import {WfmResponseError, problemOf} from './errors.ts'
import {tryFlushOutbox} from './status-sender.ts'

export type SyncOutcome =
  | {kind: 'not-modified'}
  | {kind: 'same'}
  | {kind: 'accepted', manifestVersion: number, added: number, updated: number, removed: number}
  | {kind: 'rejected', code: string, reason: string}
  | {kind: 'fetch-failed', reason: string}

class FetchAbort extends Error {}

/** A document that cannot be used is not retried until the WFM publishes a new digest. */
export const NEVER = '9999-12-31T00:00:00.000Z'

/**
 * One poll of the desired state (spec §2.5): conditional GET, integrity and rollback checks,
 * fetch and verify every changed artifact, then adopt the manifest. Nothing is adopted unless
 * every artifact it needs is here and verified; a 404 or a digest mismatch aborts the whole
 * update and keeps the previous state, to be tried again at the next poll. Applying is the
 * reconciler's job, which works from the adopted manifest, so a crash between adopting and
 * applying resumes the apply instead of losing it.
 */
export async function syncOnce(ctx: AgentContext): Promise<SyncOutcome> {
  const accepted = loadAccepted(ctx.state)
  const res = await ctx.client.getManifest(accepted?.etag ?? null)
  if (res.status === 304) {
    ctx.log.debug('sync.not_modified', {manifestVersion: accepted?.manifestVersion})
    return {kind: 'not-modified'}
  }
  if (res.status !== 200) throw new WfmResponseError(res.status, res.retryAfter, problemOf(res.body), 'manifest poll')

  const decision = evaluateManifest(accepted, {body: res.body, etag: res.headers.get('etag'), contentType: res.headers.get('content-type')})
  if (decision.kind === 'same') return {kind: 'same'}
  if (decision.kind === 'reject') {
    const fields = {code: decision.code, reason: decision.reason, storedVersion: accepted?.manifestVersion ?? null}
    if (decision.security) ctx.log.error(`sync.rejected_${decision.code.replace(/-/g, '_')}`, {...fields, securityEvent: true})
    else ctx.log.warn(`sync.rejected_${decision.code.replace(/-/g, '_')}`, fields)
    return {kind: 'rejected', code: decision.code, reason: decision.reason}
  }

  const next = decision.manifest
  const previous = accepted?.manifest ?? null
  const diff = diffManifests(previous, next)
  const changed = [...diff.added, ...diff.updated]
  let documents: Map<string, ApplicationDeployment>
  try {
    documents = await fetchArtifacts(ctx, next, changed, previous === null, diff)
  } catch (err) {
    if (!(err instanceof FetchAbort)) throw err
    ctx.log.warn('sync.fetch_failed', {manifestVersion: next.manifestVersion, reason: err.message})
    return {kind: 'fetch-failed', reason: err.message}
  }

  saveAccepted(ctx.state, {manifestVersion: next.manifestVersion, etag: decision.etag, text: decision.text}, ctx.now())
  ctx.log.info('sync.accepted', {manifestVersion: next.manifestVersion, added: diff.added.length, updated: diff.updated.length, removed: diff.removed.length})
  // Received but not started yet: every new or changed deployment is `pending` until the reconciler takes it.
  for (const ref of changed) {
    const doc = documents.get(ref.deploymentId)
    if (!doc) continue
    ctx.outbox.put(buildStatusReport(ref.deploymentId, doc.spec.deploymentProfile.components.map(c => ({name: c.name, state: 'pending' as const}))))
  }
  await tryFlushOutbox(ctx)
  return {kind: 'accepted', manifestVersion: next.manifestVersion, added: diff.added.length, updated: diff.updated.length, removed: diff.removed.length}
}

/** Fetch, verify and store the YAML of every changed deployment; throws FetchAbort when anything is missing or wrong. */
async function fetchArtifacts(ctx: AgentContext, next: StateManifest, changed: DeploymentRef[], initialSync: boolean, diff: ReturnType<typeof diffManifests>): Promise<Map<string, ApplicationDeployment>> {
  const documents = new Map<string, ApplicationDeployment>()
  const needed = changed.filter(ref => {
    const stored = ctx.workloads.loadYaml(ref.deploymentId, ref.digest)
    if (!stored) return true
    const doc = checkDeploymentYaml(stored, ref)
    if (doc.ok) documents.set(ref.deploymentId, doc.value)
    return !doc.ok
  })
  if (needed.length === 0) return documents

  const yamls = new Map<string, Uint8Array>()
  const mode = chooseFetch({...diff, added: needed.filter(r => diff.added.includes(r)), updated: needed.filter(r => diff.updated.includes(r))}, next, {initialSync})
  if (mode === 'bundle' && next.bundle) {
    const res = await ctx.client.getArtifact(next.bundle.url)
    if (res.status !== 200) throw new FetchAbort(`bundle ${next.bundle.digest}: the server answered ${res.status}`)
    const bundle = await readBundle(res.body, next)
    if (!bundle.ok) throw new FetchAbort(`bundle ${next.bundle.digest}: ${bundle.reason}`)
    for (const ref of needed) yamls.set(ref.deploymentId, bundle.yamls.get(ref.deploymentId)!)
  } else {
    for (const ref of needed) {
      const res = await ctx.client.getArtifact(ref.url)
      // A 404 only means "not available now", never "removed" (CL-23).
      if (res.status !== 200) throw new FetchAbort(`deployment ${ref.deploymentId} ${ref.digest}: the server answered ${res.status}`)
      yamls.set(ref.deploymentId, res.body)
    }
  }
  const invalid: {ref: DeploymentRef, reason: string}[] = []
  for (const ref of needed) {
    const bytes = yamls.get(ref.deploymentId)
    if (!bytes) throw new FetchAbort(`deployment ${ref.deploymentId} is missing from the bundle`)
    const doc = checkDeploymentYaml(bytes, ref)
    if (!doc.ok) {
      // A digest mismatch is a transfer or server fault: abort everything (CL-21).
      if (doc.errors[0]?.field === DIGEST_MISMATCH_FIELD) throw new FetchAbort(`deployment ${ref.deploymentId}: ${doc.errors[0].message}`)
      invalid.push({ref, reason: doc.errors.map(e => `${e.field}: ${e.message}`).join('; ')})
      continue
    }
    documents.set(ref.deploymentId, doc.value)
  }
  // Verified bytes are kept before the manifest is adopted, so the reconciler always finds them.
  for (const ref of needed) ctx.workloads.saveYaml(ref.deploymentId, ref.digest, yamls.get(ref.deploymentId)!)
  for (const {ref, reason} of invalid) {
    // The WFM published a document this device cannot use: that deployment fails, the others go on.
    ctx.log.warn('sync.invalid_deployment', {deploymentId: ref.deploymentId, reason})
    ctx.workloads.put({deploymentId: ref.deploymentId, digest: ref.digest, profileType: null, components: [], state: 'failed', intent: null, attempts: 0, nextAttemptAt: NEVER, lastAction: 'apply', lastError: {code: 'INVALID_DEPLOYMENT', message: reason}})
    ctx.outbox.put(buildStatusReport(ref.deploymentId, [], {code: 'INVALID_DEPLOYMENT', message: reason}))
  }
  return documents
}
