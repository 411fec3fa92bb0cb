import type {DeploymentState} from '../../margo/status.ts'

/** What the reconciler needs to know about one workload on the device. */
export interface WorkloadView {
  deploymentId: string
  /** The digest of the YAML last applied (or being applied). */
  digest: string
  state: DeploymentState
  /** Set before a driver acts and cleared after: a leftover intent means the agent died mid-action. */
  intent: null | {action: 'apply' | 'remove', digest: string}
  /** The last action that ran to completion or failure. */
  lastAction: 'apply' | 'remove' | null
  nextAttemptAt: string | null
  /**
   * The driver may have changed the host for this deployment: marked before its tool first acts
   * (helm upgrade, compose up) and cleared by a complete removal. False means nothing to undo.
   */
  hostChanged: boolean
}

export type ReconcileAction =
  | {kind: 'apply', deploymentId: string, digest: string, reason: 'new' | 'update' | 'retry' | 'resume'}
  | {kind: 'remove', deploymentId: string, digest: string, reason: 'absent' | 'retry' | 'resume'}
  /** Report the deployment removed without running a driver: its tool never acted on the host. */
  | {kind: 'discard', deploymentId: string, digest: string}
  | {kind: 'forget', deploymentId: string}

const due = (w: WorkloadView, now: Date) => w.nextAttemptAt === null || Date.parse(w.nextAttemptAt) <= now.getTime()

/**
 * Level-triggered reconciliation: compare the accepted desired state with what the device
 * records and say what to do — removals first (they free resources), then applies in manifest
 * order. An intent left behind by a crash is resumed unless the desired state has moved on, so
 * a kill at any point converges without removing what should stay. Failed actions are retried
 * once their back-off has passed. A deployment whose tool never acted on the host (the binary was
 * missing, the package was refused) has nothing to undo: it is discarded rather than handed to a
 * driver whose removal could fail for the same reason forever.
 */
export function planReconcile(desired: readonly {deploymentId: string, digest: string}[], workloads: readonly WorkloadView[], now: Date): ReconcileAction[] {
  const wanted = new Map(desired.map(d => [d.deploymentId, d.digest]))
  const known = new Map(workloads.map(w => [w.deploymentId, w]))
  const removals: ReconcileAction[] = []
  const applies: ReconcileAction[] = []

  for (const w of workloads) {
    if (wanted.has(w.deploymentId)) continue
    if (w.state === 'removed' && w.intent === null) removals.push({kind: 'forget', deploymentId: w.deploymentId})
    else if (!w.hostChanged) removals.push({kind: 'discard', deploymentId: w.deploymentId, digest: w.intent?.digest ?? w.digest})
    else if (w.intent?.action === 'remove') removals.push({kind: 'remove', deploymentId: w.deploymentId, digest: w.intent.digest, reason: 'resume'})
    else if (w.state === 'failed' && w.lastAction === 'remove') {
      if (due(w, now)) removals.push({kind: 'remove', deploymentId: w.deploymentId, digest: w.digest, reason: 'retry'})
    } else removals.push({kind: 'remove', deploymentId: w.deploymentId, digest: w.intent?.digest ?? w.digest, reason: 'absent'})
  }

  for (const [deploymentId, digest] of wanted) {
    const w = known.get(deploymentId)
    if (!w) applies.push({kind: 'apply', deploymentId, digest, reason: 'new'})
    else if (w.intent?.action === 'apply' && w.intent.digest === digest) applies.push({kind: 'apply', deploymentId, digest, reason: 'resume'})
    else if (w.digest !== digest || w.intent !== null) applies.push({kind: 'apply', deploymentId, digest, reason: 'update'})
    else if (w.state !== 'installed' && due(w, now)) applies.push({kind: 'apply', deploymentId, digest, reason: 'retry'})
  }
  return [...removals, ...applies]
}
