/**
 * Undoes what a run recorded in its ledger, through the operator API. Every step is tried even
 * when an earlier one failed, and each outcome is reported: a failed undo is never hidden.
 */
import {NotFoundError} from '../../util/errors.ts'
import type {OperatorClient} from '../../client/operator-client.ts'
import type {Device} from '../../operator-contract/views.ts'
import {deleteRollout, labelDevice} from '../../client/rollouts.ts'
import {leftBehind, undoPlan, RUN_LABEL, type CleanupItem, type CleanupReport, type RunLedger, type UndoStep} from './ledger.ts'

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

async function undoStep(client: OperatorClient, step: UndoStep, runId: string): Promise<CleanupItem> {
  switch (step.kind) {
    case 'rollout':
      await deleteRollout(client, step.id)
      return {kind: 'rollout', id: step.id, outcome: 'removed'}
    case 'deny-list':
      await client.call('DELETE', `/denylist/${encodeURIComponent(step.id)}`)
      return {kind: 'deny-list', id: step.id, outcome: 'removed'}
    case 'device':
      // Revoked first: a device that can make no request cannot pick up anything while it is labelled.
      if (step.revoke) await client.revokeDevice(step.id)
      await labelDevice(client, step.id, [`${RUN_LABEL}=${runId}`])
      return {kind: 'device', id: step.id, outcome: 'revoked', detail: `labelled ${RUN_LABEL}=${runId} (the operator API cannot delete a device)`}
  }
}

export async function undoRun(client: OperatorClient, ledger: RunLedger): Promise<CleanupReport> {
  const items: CleanupItem[] = []
  let devices: Device[]
  try {
    devices = ledger.devicesBefore ? await client.listDevices() : []
  } catch (err) {
    devices = []
    items.push({kind: 'device', id: '*', outcome: 'failed', detail: `could not list the devices to revoke the run's own: ${message(err)}`})
  }
  for (const step of undoPlan(ledger, devices)) {
    try {
      items.push(await undoStep(client, step, ledger.runId))
    } catch (err) {
      // Someone else removed it in the meantime: what the undo wanted is true.
      if (err instanceof NotFoundError && step.kind !== 'device') items.push({kind: step.kind, id: step.id, outcome: 'removed', detail: 'already gone'})
      else items.push({kind: step.kind, id: step.id, outcome: 'failed', detail: message(err)})
    }
  }
  items.push(...leftBehind(ledger))
  return {runId: ledger.runId, items, ok: items.every(i => i.outcome !== 'failed')}
}

const NOUN: Record<CleanupItem['kind'], [string, string]> = {
  'rollout': ['rollout', 'rollouts'],
  'deny-list': ['deny-list entry', 'deny-list entries'],
  'device': ['device', 'devices'],
  'app': ['app', 'apps'],
  'preregistration': ['pre-registration', 'pre-registrations'],
}

function counted(items: readonly CleanupItem[]): string {
  const byKind = new Map<CleanupItem['kind'], number>()
  for (const i of items) byKind.set(i.kind, (byKind.get(i.kind) ?? 0) + 1)
  return [...byKind].map(([kind, n]) => `${n} ${NOUN[kind][n === 1 ? 0 : 1]}`).join(', ')
}

/** One line: what the undo did, and what it could not do. */
export function cleanupSummary(report: CleanupReport): string {
  const of = (outcome: CleanupItem['outcome']) => report.items.filter(i => i.outcome === outcome)
  const parts: string[] = []
  if (of('removed').length) parts.push(`removed ${counted(of('removed'))}`)
  if (of('revoked').length) parts.push(`revoked ${counted(of('revoked'))} (labelled ${RUN_LABEL}=${report.runId})`)
  if (of('failed').length) parts.push(`could NOT undo ${counted(of('failed'))}`)
  if (of('left').length) parts.push(`left ${counted(of('left'))} the operator API cannot remove`)
  if (!parts.length) return 'the run created nothing to undo'
  return `the run's set-up is ${report.ok ? 'undone' : 'only partly undone'}: ${parts.join('; ')}`
}
