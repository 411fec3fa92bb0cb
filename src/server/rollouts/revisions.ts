/**
 * Revisions of a rollout, decided without I/O: what a revision holds (the operator's intent),
 * whether a request changes it, what changed, and how history shows values without leaking
 * secrets.
 */
import {createHash} from 'node:crypto'
import {showReferences} from '../secrets/references.ts'
import type {SetForRequest} from '../../operator-contract/strategy.ts'
import type {RolloutField, RolloutRevision} from '../../operator-contract/views.ts'

/** The operator's intent for one app: everything a revision records. */
export interface RolloutSpec {
  /** null: the latest published version at each evaluation. */
  appVersion: string | null
  /** Label selector; null when the rollout lists its devices. */
  selector: string | null
  devices: string[]
  profile: string | null
  values: Record<string, unknown>
  /** Values for the devices a selector matches, in order (later wins); part of the values. */
  setFor?: SetForRequest[]
}

/** What a revision can change: the contract's field names. */
export type SpecField = RolloutField

/** Canonical JSON: object keys sorted at every level, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>).sort()
      .filter(k => (value as Record<string, unknown>)[k] !== undefined)
      .map(k => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** A device list is a set: its order is not part of the intent. */
const sameDevices = (a: readonly string[], b: readonly string[]) => canonicalJson([...a].sort()) === canonicalJson([...b].sort())

/** The fields a change from `before` to `after` touches; empty when the request changes nothing. */
export function specChanges(before: RolloutSpec, after: RolloutSpec): SpecField[] {
  const out: SpecField[] = []
  if (before.appVersion !== after.appVersion) out.push('version')
  if (before.profile !== after.profile) out.push('profile')
  if (canonicalJson(before.values) !== canonicalJson(after.values) || canonicalJson(before.setFor ?? []) !== canonicalJson(after.setFor ?? [])) out.push('values')
  if (before.selector !== after.selector || (before.selector === null && !sameDevices(before.devices, after.devices))) out.push('target')
  return out
}

export const sameSpec = (a: RolloutSpec, b: RolloutSpec) => specChanges(a, b).length === 0

export const specOf = (r: RolloutSpec): RolloutSpec =>
  ({appVersion: r.appVersion, selector: r.selector, devices: [...r.devices], profile: r.profile, values: {...r.values}, setFor: [...(r.setFor ?? [])]})

export const REDACTED = '(redacted)'

/** Parameter names whose values are secrets by the usual naming: never shown in history. */
const SECRET_NAME = /(pass(word|phrase)?|secret|token|credential|private|api[-_]?key|access[-_]?key|(^|[-_])key$)/i

export const isSecretName = (name: string) => SECRET_NAME.test(name)

/** Values as history shows them: secret-looking names (at any depth) masked. */
export function redactValues(values: Record<string, unknown>): Record<string, unknown> {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk)
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, isSecretName(k) ? REDACTED : walk(x)]))
    }
    return v
  }
  return walk(values) as Record<string, unknown>
}

/**
 * A short digest of the values: equal values give equal digests, so two revisions can be
 * compared without showing either's values.
 */
export function valuesDigest(values: Record<string, unknown>): string {
  return `sha256:${createHash('sha256').update(canonicalJson(values)).digest('hex').slice(0, 12)}`
}

export interface RevisionRecord extends RolloutSpec {
  rolloutId: string
  revision: number
  /** Who made the change: the operator token's name, or `operator`. */
  actor: string
  /** Why, when it is not a plain deploy: `undo to revision 2`, `migrated`. */
  cause: string | null
  createdAt: string
}

export function historyOf(revisions: readonly RevisionRecord[]): RolloutRevision[] {
  const sorted = [...revisions].sort((a, b) => a.revision - b.revision)
  return sorted.map((r, i) => ({
    revision: r.revision,
    createdAt: r.createdAt,
    actor: r.actor,
    cause: r.cause,
    version: r.appVersion,
    profile: r.profile,
    valuesDigest: valuesDigest(r.values),
    values: showReferences(redactValues(r.values)),
    target: r.selector !== null ? {selector: r.selector} : {devices: [...r.devices]},
    changed: i === 0 ? [] : specChanges(sorted[i - 1]!, r),
  }))
}

/**
 * The revision an undo goes back to: `to` when given, else the one before the current. Returns
 * why not when there is none.
 */
export function undoTarget(revisions: readonly Pick<RevisionRecord, 'revision'>[], current: number, to?: number): {ok: true, revision: number} | {ok: false, reason: string} {
  const known = new Set(revisions.map(r => r.revision))
  if (to !== undefined) {
    if (!known.has(to)) return {ok: false, reason: `revision ${to} does not exist; revisions are ${[...known].sort((a, b) => a - b).join(', ')}`}
    if (to === current) return {ok: false, reason: `revision ${to} is the current revision`}
    return {ok: true, revision: to}
  }
  const previous = [...known].filter(r => r < current).sort((a, b) => b - a)[0]
  return previous === undefined ? {ok: false, reason: 'the rollout has only one revision; there is nothing to go back to'} : {ok: true, revision: previous}
}
