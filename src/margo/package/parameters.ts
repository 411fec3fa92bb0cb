/**
 * Resolves the values a deployment is built with (spec §3.4 step 2): the user's value when given,
 * otherwise the description's default; coerced to the setting's dataType (command-line values
 * arrive as strings) and checked against every rule of every setting bound to the parameter
 * (WFM-44). Immutable settings keep the value they were installed with (WFM-46).
 */
import {Findings} from './findings.ts'
import {joinPath, type FieldError} from '../result.ts'
import {coerceValue, checkValue} from './rules.ts'
import type {ApplicationDescription, DataType, ParamValue, SchemaRule, Setting} from './types.ts'

export type ParameterResult =
  | {ok: true, values: Record<string, ParamValue>}
  | {ok: false, errors: FieldError[]}

export interface PreviousValues {
  /** The resolved values the deployment currently has. */
  values: Record<string, unknown>
  /** Whether those values were used to install; only then do immutable settings lock. */
  applied: boolean
}

interface Binding {
  setting: Setting
  rule: SchemaRule
}

function bindings(description: ApplicationDescription): Map<string, Binding[]> {
  const out = new Map<string, Binding[]>()
  const config = description.configuration
  if (!config) return out
  for (const section of config.sections) {
    for (const setting of section.settings) {
      const rule = config.schema.find(r => r.name === setting.schema)
      if (!rule) continue
      const list = out.get(setting.parameter) ?? []
      list.push({setting, rule})
      out.set(setting.parameter, list)
    }
  }
  return out
}

/**
 * A parameter no setting describes has no dataType; a command-line string for it takes the type
 * of the default (so `--set replicas=3` stays a number when the default is a number).
 */
function implicitRule(name: string, fallback: ParamValue | undefined): SchemaRule {
  const sample = Array.isArray(fallback) ? fallback[0] : fallback
  const base = typeof sample === 'number' ? (Number.isInteger(sample) ? 'integer' : 'double') : typeof sample === 'boolean' ? 'boolean' : 'string'
  const dataType = (Array.isArray(fallback) ? `array[${base}]` : base) as DataType
  return {name, dataType, allowEmpty: true}
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
}

function show(v: unknown): string {
  return v === undefined ? 'no value' : JSON.stringify(v)
}

export function resolveParameterValues(
  description: ApplicationDescription,
  userValues: Record<string, unknown>,
  previous?: PreviousValues,
): ParameterResult {
  const f = new Findings()
  const known = Object.keys(description.parameters)
  for (const key of Object.keys(userValues)) {
    if (!Object.hasOwn(description.parameters, key)) {
      f.error(joinPath('parameters', key), `unknown parameter ${JSON.stringify(key)}; this application has: ${known.length > 0 ? known.join(', ') : 'no parameters'}`, 'unknown-parameter')
    }
  }

  const bound = bindings(description)
  const values: Record<string, ParamValue> = {}
  for (const [name, parameter] of Object.entries(description.parameters)) {
    const field = joinPath('parameters', name)
    const userGiven = Object.hasOwn(userValues, name) && userValues[name] !== undefined
    const input = userGiven ? userValues[name] : parameter.value
    const rules = bound.get(name) ?? [{setting: undefined, rule: implicitRule(name, parameter.value)}]

    let resolved: ParamValue | undefined
    let failed = false
    for (const {setting, rule} of rules) {
      const label = setting ? `${setting.name} (${rule.dataType})` : name
      const coerced = coerceValue(input, rule)
      if (!coerced.ok) {
        f.error(field, `${label}: ${coerced.message}`, 'type')
        failed = true
        continue
      }
      const problems = checkValue(coerced.coerced, rule)
      const missing = coerced.coerced.value === undefined
      for (const problem of problems) f.error(field, `${label}: ${problem}`, missing ? 'required' : 'invalid')
      if (problems.length > 0) failed = true
      resolved ??= coerced.coerced.value
    }
    if (failed) continue

    const locked = previous?.applied === true && (bound.get(name) ?? []).some(b => b.setting.immutable)
    if (locked && previous && Object.hasOwn(previous.values, name)) {
      const before = previous.values[name]
      if (!sameValue(before, resolved)) {
        f.error(field, `is immutable: it was installed with ${show(before)} and cannot change to ${show(resolved)}`, 'immutable')
        continue
      }
    }
    // An allowed-empty parameter with no value at all is left out; the deployment then has
    // nothing to set for it.
    if (resolved === undefined) continue
    values[name] = resolved
  }
  return f.errors.length > 0 ? {ok: false, errors: f.errors} : {ok: true, values}
}
