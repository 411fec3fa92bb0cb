/**
 * Secret references in parameter values, decided without I/O. A value refers to a secret as
 * `${secret:NAME}`: the whole value, or embedded in a longer string (`postgres://app:${secret:db}@db`);
 * in a list, each string element may hold references. What the server stores as the operator's
 * intent keeps the reference text; only the YAML a device receives holds the secret itself, and
 * everything shown to an operator says `<secret:NAME>`.
 */

/** A secret's name: what `margo secret set` accepts and a reference can name. */
export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/

const REFERENCE = /\$\{secret:([^}]*)\}/g

export const isSecretName = (name: string) => SECRET_NAME.test(name)

/** How an operator sees a reference (or the secret it stands for). */
export const shownReference = (name: string) => `<secret:${name}>`

/** The names referenced in one string, in order, each once. */
export function referencesIn(text: string): string[] {
  return [...new Set([...text.matchAll(REFERENCE)].map(m => m[1]!))]
}

const strings = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []

/** Every secret a set of parameter values refers to, with the parameters that refer to it. */
export function secretUses(values: Record<string, unknown>): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const [parameter, value] of Object.entries(values)) {
    for (const name of new Set(strings(value).flatMap(referencesIn))) out.set(name, [...(out.get(name) ?? []), parameter])
  }
  return out
}

export const hasReferences = (values: Record<string, unknown>) => secretUses(values).size > 0

/** Replaces every reference in strings (and string elements of lists) by what `replace` gives for its name. */
export function mapReferences(values: Record<string, unknown>, replace: (name: string) => string): Record<string, unknown> {
  const one = (v: unknown): unknown => (typeof v === 'string' ? v.replace(REFERENCE, (_, name: string) => replace(name)) : v)
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Array.isArray(v) ? v.map(one) : one(v)]))
}

/** Values as an operator sees them: `${secret:NAME}` becomes `<secret:NAME>`. */
export const showReferences = (values: Record<string, unknown>) => mapReferences(values, shownReference)

/** One string as an operator sees it. */
export const showReferencesIn = (text: string) => text.replace(REFERENCE, (_, name: string) => shownReference(name))

/**
 * Puts the references of `given` back into `resolved`: a parameter whose given value refers to
 * secrets keeps the reference text, element by element for lists; everything else keeps its
 * resolved (coerced, defaulted) value.
 */
export function keepReferences<T>(given: Record<string, unknown>, resolved: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {...resolved}
  for (const [name, value] of Object.entries(resolved)) {
    const g = given[name]
    if (typeof g === 'string' && referencesIn(g).length > 0) out[name] = g as T
    else if (Array.isArray(g) && Array.isArray(value) && g.length === value.length) {
      out[name] = value.map((v, i) => (typeof g[i] === 'string' && referencesIn(g[i]).length > 0 ? g[i] : v)) as T
    }
  }
  return out
}

/** Replaces every occurrence of a secret's value in `text` by its reference as shown: for messages that may quote values. */
export function maskSecrets(text: string, secrets: ReadonlyMap<string, string>): string {
  let out = text
  // Longest first, so a secret that contains another is masked whole.
  for (const [name, value] of [...secrets].sort((a, b) => b[1].length - a[1].length)) {
    if (value.length > 0) out = out.split(value).join(shownReference(name))
  }
  return out
}
