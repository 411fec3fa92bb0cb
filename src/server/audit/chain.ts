/**
 * The audit log's hash chain. Each entry's hash is the SHA-256 of a canonical encoding of its
 * fields, including its sequence number and the previous entry's hash, so editing, deleting or
 * reordering a stored row breaks the chain at that row (or the next one) and `verifyChain`
 * names it. Truncating the newest entries is not detectable from the log alone: compare the
 * head hash with one recorded elsewhere (docs/security.md).
 */
import {createHash} from 'node:crypto'
import canonicalize from 'canonicalize'
import type {AuditRow} from '../store/audit-repo.ts'

export const GENESIS_HASH = '0'.repeat(64)

/** An entry's fields as stored, without its own hash (which they determine). */
export type ChainFields = Omit<AuditRow, 'hash'>

/** Canonical JSON (RFC 8785) of the fields, so the hash never depends on key order or spacing. */
export function entryHash(e: ChainFields): string {
  const text = canonicalize({
    seq: e.seq, at: e.at, actor: e.actor, action: e.action, target: e.target, summary: e.summary, requestId: e.requestId, prevHash: e.prevHash,
  })!
  return createHash('sha256').update(text).digest('hex')
}

/** The summary as stored and hashed. */
export const canonicalSummary = (summary: Record<string, unknown>): string => canonicalize(summary) ?? '{}'

export type ChainBreak = {seq: number, reason: string}

/**
 * Walks the entries in order and returns the first that does not follow from its predecessor,
 * or null when the whole chain holds. Streams: only the previous entry is kept.
 */
export function verifyChain(entries: Iterable<ChainFields & {hash: string}>): {count: number, head: string | null, broken: ChainBreak | null} {
  let prev: {seq: number, hash: string} | null = null
  let count = 0
  for (const e of entries) {
    count++
    const expectedSeq: number = prev ? prev.seq + 1 : 1
    const expectedPrev: string = prev ? prev.hash : GENESIS_HASH
    if (e.seq !== expectedSeq) {
      return {count, head: prev?.hash ?? null, broken: {seq: e.seq, reason: `expected entry ${expectedSeq} here: ${e.seq > expectedSeq ? 'an entry before it was deleted' : 'entries were reordered'}`}}
    }
    if (e.prevHash !== expectedPrev) {
      return {count, head: prev?.hash ?? null, broken: {seq: e.seq, reason: prev ? `its previous-entry hash does not match entry ${prev.seq}: that entry was changed, deleted or moved` : 'the first entry does not start the chain'}}
    }
    if (entryHash(e) !== e.hash) {
      return {count, head: prev?.hash ?? null, broken: {seq: e.seq, reason: 'its content does not match its hash: the entry was edited'}}
    }
    prev = {seq: e.seq, hash: e.hash}
  }
  return {count, head: prev?.hash ?? null, broken: null}
}
