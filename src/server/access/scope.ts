/**
 * A token's scope is a label selector: the token sees and changes only devices that match it.
 *
 * A rollout with a live selector keeps growing as devices are labelled and onboarded, so
 * "it matches only devices in scope today" is not enough. The rule is syntactic instead: every
 * requirement of the scope must be implied by one requirement of the rollout's selector
 * (`site=a` implies `site in (a,b)`, `site`, `site!=b`...). A selector is a conjunction, so
 * then every label set it matches — now or after any change — also matches the scope.
 */
import {formatSelector, matchesSelector, parseSelector, type Requirement, type Selector} from '../../operator-contract/selector.ts'

export type Containment = {ok: true} | {ok: false, missing: string[]}

const one = (r: Requirement) => formatSelector({requirements: [r]})

/** Whether requirement `s` holding guarantees `c` holds, for any labels. Sound, not complete. */
export function implies(s: Requirement, c: Requirement): boolean {
  if (s.key !== c.key) return false
  const sv = s.values
  const cv = c.values
  // What `s` says about the label's value: it is absent, or one of a known set.
  const positive = s.operator === 'eq' || s.operator === 'in' ? sv : null
  switch (c.operator) {
    case 'exists': return positive !== null || s.operator === 'exists'
    case 'notexists': return s.operator === 'notexists'
    case 'eq':
    case 'in': return positive?.every(v => cv.includes(v)) ?? false
    case 'neq':
    case 'notin':
      if (s.operator === 'notexists') return true
      if (positive !== null) return positive.every(v => !cv.includes(v))
      return (s.operator === 'neq' || s.operator === 'notin') && cv.every(v => sv.includes(v))
  }
}

/** Whether `selector` can only ever match devices inside `scope`; otherwise the scope's requirements it does not imply. */
export function selectorWithinScope(selector: Selector, scope: Selector): Containment {
  const missing = scope.requirements.filter(c => !selector.requirements.some(s => implies(s, c))).map(one)
  return missing.length === 0 ? {ok: true} : {ok: false, missing}
}

export function parseScope(text: string): Selector | null {
  const parsed = parseSelector(text)
  return parsed.ok ? parsed.selector : null
}

export function labelsInScope(scope: Selector | null, labels: Readonly<Record<string, string>>): boolean {
  return scope === null || matchesSelector(scope, labels)
}

/** Label keys a scoped token may not change: changing them could move a device out of (or into) its scope. */
export function scopeKeys(scope: Selector | null): string[] {
  return scope ? [...new Set(scope.requirements.map(r => r.key))] : []
}

export interface RolloutTargets {
  /** Selector text; null when the rollout lists its devices. */
  selector: string | null
  devices: readonly string[]
}

/**
 * Why a rollout (as created or changed) is not inside `scope`, or null when it is: a selector
 * must imply the scope (see above), a device list may name only devices inside it now.
 */
export function rolloutScopeProblem(scope: Selector | null, scopeText: string, target: RolloutTargets, labelsOf: (clientId: string) => Readonly<Record<string, string>> | null): {message: string, details: string[]} | null {
  if (scope === null) return null
  if (target.selector !== null) {
    const parsed = parseSelector(target.selector)
    // An unparsable selector is refused by the rollout service with its own error.
    if (!parsed.ok) return null
    const within = selectorWithinScope(parsed.selector, scope)
    if (within.ok) return null
    return {
      message: `selector ${JSON.stringify(target.selector)} could reach devices outside this token's scope ${JSON.stringify(scopeText)}: a scoped token's selector must itself require ${within.missing.join(', ')}`,
      details: within.missing,
    }
  }
  const outside = target.devices.filter(id => {
    const labels = labelsOf(id)
    return labels === null || !labelsInScope(scope, labels)
  })
  if (outside.length === 0) return null
  return {message: `device(s) outside this token's scope ${JSON.stringify(scopeText)}: ${outside.join(', ')}`, details: outside}
}
