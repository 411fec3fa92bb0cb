/**
 * The one place parameter values meet secrets: a deployment's values are resolved and checked
 * with the secrets' values in place, and come back twice — as the intent to store (references
 * kept as `${secret:NAME}`) and as what the device's YAML is rendered with (values in place).
 */
import {resolveParameterValues, type PreviousValues} from '../../margo/package/parameters.ts'
import type {ApplicationDescription, ParamValue} from '../../margo/package/types.ts'
import {keepReferences, mapReferences, maskSecrets, secretUses} from './references.ts'

/** Reads a secret's value by name; null when there is no such secret. */
export type SecretReader = (name: string) => string | null

/** A server without secrets: every reference is to a missing secret. */
export const NO_SECRETS: SecretReader = () => null

export interface ValueProblem {
  field: string
  message: string
  code?: string
}

export type SecretValues =
  | {ok: true, stored: Record<string, ParamValue>, rendered: Record<string, ParamValue>, secrets: string[]}
  | {ok: false, errors: ValueProblem[]}

/** The values of the secrets `values` refer to; names without a secret are left out. */
function readAll(values: Record<string, unknown>, read: SecretReader): Map<string, string> {
  const out = new Map<string, string>()
  for (const name of secretUses(values).keys()) {
    const v = read(name)
    if (v !== null) out.set(name, v)
  }
  return out
}

const substitute = (values: Record<string, unknown>, secrets: ReadonlyMap<string, string>) =>
  mapReferences(values, name => secrets.get(name) ?? `\${secret:${name}}`)

/**
 * `resolveParameterValues` for values that may refer to secrets. A reference to a missing
 * secret is refused naming the parameter; rule violations are checked on the secret's value
 * and reported with the value masked as `<secret:NAME>`.
 */
export function resolveWithSecrets(description: ApplicationDescription, given: Record<string, unknown>, read: SecretReader, previous?: PreviousValues): SecretValues {
  const missing: ValueProblem[] = []
  for (const [name, parameters] of secretUses(given)) {
    if (read(name) !== null) continue
    for (const p of parameters) missing.push({field: `parameters.${p}`, message: `refers to secret ${JSON.stringify(name)}, which does not exist — create it with: margo secret set ${name} --value -`, code: 'secret_not_found'})
  }
  if (missing.length > 0) return {ok: false, errors: missing}
  const secrets = readAll({...given, ...(previous?.values ?? {})}, read)
  const prior = previous ? {...previous, values: substitute(previous.values, secrets)} : undefined
  const resolved = resolveParameterValues(description, substitute(given, secrets), prior)
  if (!resolved.ok) return {ok: false, errors: resolved.errors.map(e => ({...e, message: maskSecrets(e.message, secrets)}))}
  return {ok: true, stored: keepReferences(given, resolved.values), rendered: resolved.values, secrets: [...secretUses(given).keys()]}
}

/**
 * What a stored deployment renders with now: its stored values with the secrets' current values
 * in place, checked against the app's rules again (a rotated secret must still fit them).
 */
export function renderStored(description: ApplicationDescription, stored: Record<string, unknown>, read: SecretReader): SecretValues {
  return resolveWithSecrets(description, stored, read)
}
