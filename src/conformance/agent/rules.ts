/**
 * The validation rules of the Margo device-supplier conformance mock (`assertions.json`,
 * 1.0.0 shape), evaluated as that mock evaluates them: each rule names a dot path (`*` for
 * every array item), a JSON type, and optionally an exact value, an enum, an enum for array
 * items and a minimum length.
 */

export interface AssertionRule {
  rule_id: string
  field: string
  type?: 'string' | 'number' | 'object' | 'array' | 'boolean'
  required?: boolean
  value?: unknown
  enum?: unknown[]
  itemsEnum?: unknown[]
  minLength?: number
  description?: string
}

export interface AssertionEndpoint {
  path: string
  method: string
  status_code: number
  validations: AssertionRule[]
}

export interface AssertionSet {
  rejected_certificates?: string[]
  endpoints: Record<string, AssertionEndpoint>
}

export interface RuleFailure {
  rule_id: string
  error: string
}

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** Every value the path reaches, with its concrete path; `*` fans out over array items. */
function resolve(doc: unknown, path: string): {at: string, value: unknown, present: boolean}[] {
  let current: {at: string, value: unknown, present: boolean}[] = [{at: '', value: doc, present: true}]
  for (const segment of path.split('.')) {
    const next: typeof current = []
    for (const node of current) {
      const prefix = node.at === '' ? '' : `${node.at}.`
      if (segment === '*') {
        // A missing or non-array parent is reported by the rule that owns the parent.
        if (Array.isArray(node.value)) next.push(...node.value.map((item, i) => ({at: `${prefix}${i}`, value: item, present: true})))
        continue
      }
      const parent = node.value
      if (parent !== null && typeof parent === 'object' && !Array.isArray(parent) && segment in parent) {
        next.push({at: `${prefix}${segment}`, value: (parent as Record<string, unknown>)[segment], present: true})
      } else if (node.present) {
        next.push({at: `${prefix}${segment}`, value: undefined, present: false})
      }
    }
    current = next
  }
  return current
}

function checkOne(rule: AssertionRule, at: string, value: unknown, present: boolean): string | null {
  if (!present || value === undefined) return rule.required ? `${at} is required` : null
  if (rule.type && typeOf(value) !== rule.type) return `${at} must be a ${rule.type}, got ${typeOf(value)}`
  if (rule.value !== undefined && value !== rule.value) return `${at} must be ${JSON.stringify(rule.value)}, got ${JSON.stringify(value)}`
  if (rule.enum && !rule.enum.includes(value)) return `${at} must be one of ${rule.enum.map(v => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`
  if (rule.minLength !== undefined && typeof value === 'string' && value.length < rule.minLength) return `${at} must not be empty`
  if (rule.itemsEnum && Array.isArray(value)) {
    const bad = value.find(item => !rule.itemsEnum!.includes(item))
    if (bad !== undefined) return `${at} items must be one of ${rule.itemsEnum.map(v => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(bad)}`
  }
  return null
}

/** Every rule the document breaks, in rule order; empty when it satisfies them all. */
export function evaluateRules(rules: readonly AssertionRule[], doc: unknown): RuleFailure[] {
  const failures: RuleFailure[] = []
  for (const rule of rules) {
    for (const {at, value, present} of resolve(doc, rule.field)) {
      const problem = checkOne(rule, at, value, present)
      if (problem) failures.push({rule_id: rule.rule_id, error: problem})
    }
  }
  return failures
}

/** The rules of one endpoint of the set (`POST_onboarding`, `POST_capabilities`, `POST_status`); empty when the set has none. */
export function endpointRules(set: AssertionSet, key: string): AssertionRule[] {
  return set.endpoints[key]?.validations ?? []
}
