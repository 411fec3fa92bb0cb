/**
 * Schema rules of `configuration.schema[]` (spec §3.2): which keys a rule may carry, and how a
 * value is coerced to a rule's dataType and then checked against every rule present.
 *
 * A rule's kind comes from its dataType; a rule with `options` is a Select (A18). `allowEmpty`
 * has its literal meaning: true allows an empty or missing value (A16). For array dataTypes
 * the text and number rules apply to each element. Precision counts digits after the decimal
 * point.
 */
import type {DataType, ParamValue, Scalar, SchemaRule} from './types.ts'

export const DATA_TYPES: readonly DataType[] = [
  'string', 'integer', 'double', 'boolean',
  'array[string]', 'array[integer]', 'array[double]', 'array[boolean]',
]

export type ElementType = 'string' | 'integer' | 'double' | 'boolean'

const COMMON_KEYS = ['name', 'dataType', 'allowEmpty'] as const
const KEYS_BY_KIND: Record<ElementType | 'select', readonly string[]> = {
  string: ['minLength', 'maxLength', 'regexMatch'],
  integer: ['minValue', 'maxValue'],
  double: ['minValue', 'maxValue', 'minPrecision', 'maxPrecision'],
  boolean: [],
  select: ['multiselect', 'options'],
}

export function elementType(dataType: DataType): ElementType {
  return (dataType.startsWith('array[') ? dataType.slice(6, -1) : dataType) as ElementType
}

export function isSelect(rule: Pick<SchemaRule, 'options'>): boolean {
  return rule.options !== undefined
}

/** Whether values under this rule are lists. A Select's `multiselect`, when given, decides. */
export function expectsArray(rule: Pick<SchemaRule, 'dataType' | 'options' | 'multiselect'>): boolean {
  if (isSelect(rule) && rule.multiselect !== undefined) return rule.multiselect
  return rule.dataType.startsWith('array[')
}

/** Rule keys allowed for a rule with this dataType (and with or without `options`). */
export function allowedRuleKeys(dataType: DataType, select: boolean): readonly string[] {
  return [...COMMON_KEYS, ...KEYS_BY_KIND[select ? 'select' : elementType(dataType)]]
}

const INTEGER_TEXT = /^[+-]?\d+$/
const DOUBLE_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/

/** A value after coercion, with the decimal text of doubles so precision is judged as written. */
export interface Coerced {
  value: ParamValue | undefined
  /** For double elements given as text: the text the precision rules count digits in. */
  texts: (string | undefined)[]
}

type ElementResult = {ok: true, value: Scalar | undefined, text?: string} | {ok: false, message: string}

function coerceElement(input: unknown, type: ElementType): ElementResult {
  if (input === null || input === undefined) return {ok: true, value: undefined}
  switch (type) {
    case 'string':
      if (typeof input === 'string') return {ok: true, value: input}
      if (typeof input === 'number' || typeof input === 'boolean') return {ok: true, value: String(input)}
      return {ok: false, message: 'must be a string'}
    case 'integer': {
      if (typeof input === 'string') {
        const t = input.trim()
        if (t === '') return {ok: true, value: undefined}
        if (!INTEGER_TEXT.test(t)) return {ok: false, message: `must be an integer, got ${JSON.stringify(input)}`}
        input = Number(t)
      }
      if (typeof input !== 'number' || !Number.isInteger(input)) return {ok: false, message: `must be an integer, got ${JSON.stringify(input)}`}
      if (!Number.isSafeInteger(input)) return {ok: false, message: 'is too large to be represented exactly'}
      return {ok: true, value: input}
    }
    case 'double': {
      if (typeof input === 'string') {
        const t = input.trim()
        if (t === '') return {ok: true, value: undefined}
        if (!DOUBLE_TEXT.test(t)) return {ok: false, message: `must be a number, got ${JSON.stringify(input)}`}
        const n = Number(t)
        if (!Number.isFinite(n)) return {ok: false, message: 'must be a finite number'}
        return {ok: true, value: n, text: t}
      }
      if (typeof input !== 'number' || !Number.isFinite(input)) return {ok: false, message: `must be a number, got ${JSON.stringify(input)}`}
      // A native number has lost any trailing zeros, so only its shortest form is known.
      return {ok: true, value: input}
    }
    case 'boolean': {
      if (typeof input === 'boolean') return {ok: true, value: input}
      if (typeof input === 'string') {
        const t = input.trim().toLowerCase()
        if (t === '') return {ok: true, value: undefined}
        if (t === 'true') return {ok: true, value: true}
        if (t === 'false') return {ok: true, value: false}
      }
      return {ok: false, message: `must be true or false, got ${JSON.stringify(input)}`}
    }
  }
}

/** Splits a command-line list: a JSON array, or comma-separated items (surrounding spaces dropped). */
function listItems(input: unknown): {ok: true, items: unknown[]} | {ok: false, message: string} {
  if (Array.isArray(input)) return {ok: true, items: input}
  if (typeof input === 'string') {
    const t = input.trim()
    if (t === '') return {ok: true, items: []}
    if (t.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(t)
        if (Array.isArray(parsed)) return {ok: true, items: parsed}
      } catch { /* reported below */ }
      return {ok: false, message: 'is not a valid JSON array'}
    }
    return {ok: true, items: t.split(',').map(s => s.trim())}
  }
  return {ok: true, items: [input]}
}

/**
 * Coerces user input (native JSON/YAML values, or strings as typed on a command line) to the
 * rule's dataType. `undefined` in the result means "no value" (missing, null or blank).
 */
export function coerceValue(input: unknown, rule: SchemaRule): {ok: true, coerced: Coerced} | {ok: false, message: string} {
  const type = elementType(rule.dataType)
  if (!expectsArray(rule)) {
    if (Array.isArray(input)) return {ok: false, message: 'must be a single value, not a list'}
    const r = coerceElement(input, type)
    if (!r.ok) return r
    return {ok: true, coerced: {value: r.value, texts: [r.text]}}
  }
  if (input === null || input === undefined) return {ok: true, coerced: {value: undefined, texts: []}}
  const list = listItems(input)
  if (!list.ok) return list
  const values: Scalar[] = []
  const texts: (string | undefined)[] = []
  for (const [i, item] of list.items.entries()) {
    if (item !== null && typeof item === 'object') return {ok: false, message: `item ${i} must be a ${type}, not a structure`}
    const r = coerceElement(item, type)
    if (!r.ok) return {ok: false, message: `item ${i} ${r.message}`}
    if (r.value === undefined) return {ok: false, message: `item ${i} is empty`}
    values.push(r.value)
    texts.push(r.text)
  }
  return {ok: true, coerced: {value: values, texts}}
}

/** Digits after the decimal point of a decimal text such as `1.50` or `1.5e-3`. */
export function decimalPlaces(text: string): number {
  const m = /^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim())
  if (!m) return 0
  const fraction = (m[2] ?? '').length
  const exponent = m[3] === undefined ? 0 : Number(m[3])
  return Math.max(0, fraction - exponent)
}

export function isEmptyValue(value: ParamValue | undefined): boolean {
  return value === undefined || value === '' || (Array.isArray(value) && value.length === 0)
}

function describe(v: Scalar): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v)
}

function checkElement(value: Scalar, text: string | undefined, rule: SchemaRule, where: string): string[] {
  const problems: string[] = []
  if (isSelect(rule)) {
    if (!(rule.options ?? []).some(o => o === value)) {
      problems.push(`${where}${describe(value)} is not one of the options ${(rule.options ?? []).map(describe).join(', ')}`)
    }
    return problems
  }
  if (typeof value === 'string') {
    const length = [...value].length
    if (rule.minLength !== undefined && length < rule.minLength) problems.push(`${where}must be at least ${rule.minLength} characters long (is ${length})`)
    if (rule.maxLength !== undefined && length > rule.maxLength) problems.push(`${where}must be at most ${rule.maxLength} characters long (is ${length})`)
    if (rule.regexMatch !== undefined) {
      let re: RegExp | undefined
      try { re = new RegExp(rule.regexMatch, 'u') } catch { re = undefined }
      if (re && !re.test(value)) problems.push(`${where}must match the pattern ${rule.regexMatch}`)
    }
  }
  if (typeof value === 'number') {
    if (rule.minValue !== undefined && value < rule.minValue) problems.push(`${where}must be at least ${rule.minValue} (is ${value})`)
    if (rule.maxValue !== undefined && value > rule.maxValue) problems.push(`${where}must be at most ${rule.maxValue} (is ${value})`)
    if (elementType(rule.dataType) === 'double' && (rule.minPrecision !== undefined || rule.maxPrecision !== undefined)) {
      const places = decimalPlaces(text ?? String(value))
      // minPrecision is judged only on typed text: `1.5` from JSON may have been `1.50`, and
      // deployments write doubles with at least minPrecision digits anyway.
      if (rule.minPrecision !== undefined && text !== undefined && places < rule.minPrecision) problems.push(`${where}must have at least ${rule.minPrecision} digits after the decimal point (has ${places})`)
      if (rule.maxPrecision !== undefined && places > rule.maxPrecision) problems.push(`${where}must have at most ${rule.maxPrecision} digits after the decimal point (has ${places})`)
    }
  }
  return problems
}

/**
 * Checks a coerced value against every rule present; returns one message per broken rule.
 * An empty value passes only when `allowEmpty` is true, and then no further rule applies.
 */
export function checkValue(coerced: Coerced, rule: SchemaRule): string[] {
  const {value} = coerced
  if (isEmptyValue(value)) {
    return rule.allowEmpty === true ? [] : [value === undefined ? 'is required (no value given and no default)' : 'must not be empty']
  }
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => checkElement(v, coerced.texts[i], rule, `item ${i} `))
  }
  return checkElement(value as Scalar, coerced.texts[0], rule, '')
}

/** Coerces then checks; the one entry point for "does this value satisfy this rule". */
export function validateValue(input: unknown, rule: SchemaRule): {ok: true, value: ParamValue | undefined} | {ok: false, messages: string[]} {
  const c = coerceValue(input, rule)
  if (!c.ok) return {ok: false, messages: [c.message]}
  const problems = checkValue(c.coerced, rule)
  return problems.length > 0 ? {ok: false, messages: problems} : {ok: true, value: c.coerced.value}
}
