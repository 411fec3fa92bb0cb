import type {Store} from '../store/store.ts'
import type {IdKind, IdMatch} from '../../operator-contract/views.ts'
import {badRequest, invalid} from './errors.ts'

export type {IdKind}

/** Shorter prefixes would match by accident; tables and the TUI show 8 characters. */
export const MIN_PREFIX_LENGTH = 4
/** Candidates named in an ambiguity error, per kind. */
const SHOWN = 5

export const ID_KINDS: readonly IdKind[] = ['device', 'deployment', 'rollout']

/** Whether the caller may see an id (a scoped token: only its devices and what is theirs). */
export type IdVisible = (kind: IdKind, id: string) => boolean

const plural: Record<IdKind, string> = {device: 'devices', deployment: 'deployments', rollout: 'rollouts'}

/**
 * The one place the operator API reads an id as typed: the id itself when one of `kinds` has
 * it, else the single id that starts with it (at least MIN_PREFIX_LENGTH characters). null when
 * nothing matches, so each route answers its own not-found. A prefix several ids share is
 * refused with the candidates (422 `ambiguous_id`), never guessed.
 */
export function findId(store: Pick<Store, 'idsWithPrefix'>, kinds: readonly IdKind[], input: string, visible?: IdVisible): IdMatch | null {
  // Ids the caller may not see are neither matched nor named as candidates.
  const byKind = kinds.map(kind => ({
    kind,
    ids: visible ? store.idsWithPrefix(kind, input, 1000).filter(id => visible(kind, id)).slice(0, SHOWN + 1) : store.idsWithPrefix(kind, input, SHOWN + 1),
  }))
  const exact = byKind.find(k => k.ids.includes(input))
  if (exact) return {kind: exact.kind, id: input}
  if (input.length < MIN_PREFIX_LENGTH) return null
  const matches = byKind.flatMap(k => k.ids.map(id => ({kind: k.kind, id})))
  if (matches.length === 0) return null
  if (matches.length === 1) return matches[0]!
  const more = byKind.some(k => k.ids.length > SHOWN)
  const shown = byKind.flatMap(k => k.ids.slice(0, SHOWN).map(id => ({kind: k.kind, id})))
  const kindsHit = new Set(shown.map(m => m.kind))
  const noun = kindsHit.size === 1 ? plural[shown[0]!.kind] : 'ids'
  const list = shown.map(m => (kindsHit.size === 1 ? m.id : `${m.id} (${m.kind})`)).join(', ')
  throw invalid(
    'ambiguous_id',
    `${input} is the start of ${more ? 'more than ' : ''}${shown.length} ${noun}: ${list}${more ? ', …' : ''} — give more characters of the id`,
    shown.map(m => ({path: m.kind, message: m.id})),
  )
}

/** The full id of one kind that `input` names, or `input` itself when none does (the caller's lookup then answers 404). */
export function resolveId(store: Pick<Store, 'idsWithPrefix'>, kind: IdKind, input: string, visible?: IdVisible): string {
  return findId(store, [kind], input, visible)?.id ?? input
}

/** `?kinds=device,rollout` of GET /ids/{prefix}; every kind when absent. */
export function parseIdKinds(text: string | undefined): IdKind[] {
  if (!text) return [...ID_KINDS]
  const kinds = text.split(',').map(k => k.trim()).filter(Boolean)
  const unknown = kinds.filter(k => !ID_KINDS.includes(k as IdKind))
  if (unknown.length > 0 || kinds.length === 0) throw badRequest(`kinds must list ${ID_KINDS.join(', ')} (comma-separated); got ${JSON.stringify(text)}`)
  return kinds as IdKind[]
}
