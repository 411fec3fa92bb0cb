/**
 * The audit log: one append-only, hash-chained entry per change to the fleet, made by an
 * operator (actor: the token's name) or by the server itself (actor: `system`).
 */
import type {AuditEntry, AuditVerification} from '../../operator-contract/views.ts'
import {allAuditRows, insertAuditRow, lastAuditRow, listAuditRows, type AuditFilter, type AuditRow} from '../store/audit-repo.ts'
import type {Store} from '../store/store.ts'
import {GENESIS_HASH, canonicalSummary, entryHash, verifyChain} from './chain.ts'
import {redactSummary} from './redact.ts'

export const SYSTEM_ACTOR = 'system'

export interface AuditDraft {
  actor: string
  action: string
  target: string
  /** Redacted before it is stored. */
  summary?: Record<string, unknown>
  requestId?: string | null
}

const toEntry = (r: AuditRow): AuditEntry => ({...r, summary: JSON.parse(r.summary) as Record<string, unknown>})

/**
 * Appends one entry. Runs in a transaction of its own, or as part of the caller's when there
 * is one, so an entry can commit together with the change it records.
 */
export function appendAudit(store: Store, draft: AuditDraft, at: Date): AuditEntry {
  return store.transaction(() => {
    const last = lastAuditRow(store)
    const fields = {
      seq: (last?.seq ?? 0) + 1,
      at: at.toISOString(),
      actor: draft.actor,
      action: draft.action,
      target: draft.target,
      summary: canonicalSummary(redactSummary(draft.summary ?? {}) as Record<string, unknown>),
      requestId: draft.requestId ?? null,
      prevHash: last?.hash ?? GENESIS_HASH,
    }
    const row: AuditRow = {...fields, hash: entryHash(fields)}
    insertAuditRow(store, row)
    return toEntry(row)
  })
}

export function listAudit(store: Store, filter: AuditFilter = {}): AuditEntry[] {
  return listAuditRows(store, filter).map(toEntry)
}

export function* exportAudit(store: Store): Generator<AuditEntry> {
  for (const row of allAuditRows(store)) yield toEntry(row)
}

export function verifyAudit(store: Store): AuditVerification {
  const {count, head, broken} = verifyChain(allAuditRows(store))
  return broken ? {ok: false, entries: count, brokenAt: broken.seq, reason: broken.reason} : {ok: true, entries: count, head}
}
