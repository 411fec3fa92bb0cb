/**
 * Device labels, validated like Kubernetes labels so selectors written for one read the same
 * here: keys are `[prefix/]name` (prefix a DNS subdomain of at most 253 characters, name at most
 * 63 characters of `[A-Za-z0-9._-]` that starts and ends alphanumeric); values are empty or at
 * most 63 characters of the same alphabet, also starting and ending alphanumeric.
 */

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const NAME_MAX = 63
const PREFIX_MAX = 253

export interface LabelProblem {
  path: string
  message: string
}

function nameProblem(name: string, what: string): string | null {
  if (name.length > NAME_MAX) return `${what} is ${name.length} characters long; at most ${NAME_MAX} are allowed`
  if (!NAME.test(name)) return `${what} must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit`
  return null
}

/** Why `key` is not a valid label key, or null when it is. */
export function labelKeyProblem(key: string): string | null {
  if (key === '') return 'the key is empty'
  const slash = key.indexOf('/')
  if (slash === -1) return nameProblem(key, 'the name')
  const prefix = key.slice(0, slash)
  const name = key.slice(slash + 1)
  if (prefix.length === 0) return 'the prefix before "/" is empty'
  if (prefix.length > PREFIX_MAX) return `the prefix is ${prefix.length} characters long; at most ${PREFIX_MAX} are allowed`
  if (!DNS_SUBDOMAIN.test(prefix)) return 'the prefix must be a DNS subdomain (lowercase letters, digits, "-" and ".")'
  if (name === '') return 'the name after "/" is empty'
  return nameProblem(name, 'the name')
}

/** Why `value` is not a valid label value, or null when it is. The empty value is valid. */
export function labelValueProblem(value: string): string | null {
  if (value === '') return null
  return nameProblem(value, 'the value')
}

/** Every problem of a label map read from JSON, each with its path (`labels.<key>`). */
export function labelMapProblems(labels: Record<string, unknown>, options: {allowNull: boolean}): LabelProblem[] {
  const problems: LabelProblem[] = []
  for (const [key, value] of Object.entries(labels)) {
    const path = `labels.${key}`
    const keyProblem = labelKeyProblem(key)
    if (keyProblem) problems.push({path, message: `invalid key: ${keyProblem}`})
    if (value === null && options.allowNull) continue
    if (typeof value !== 'string') {
      problems.push({path, message: options.allowNull ? 'must be a string, or null to remove the label' : 'must be a string'})
      continue
    }
    const valueProblem = labelValueProblem(value)
    if (valueProblem) problems.push({path, message: `invalid value: ${valueProblem}`})
  }
  return problems
}

/** A merge patch: a string sets the label, null removes it. */
export function mergeLabels(current: Readonly<Record<string, string>>, patch: Readonly<Record<string, string | null>>): Record<string, string> {
  const out: Record<string, string> = {...current}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    else out[key] = value
  }
  return sortLabels(out)
}

/** Labels in key order, so stored JSON and output are stable. */
export function sortLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.keys(labels).sort().map(k => [k, labels[k]!]))
}

/**
 * Command-line label arguments → a merge patch: `key=value` sets, `key-` removes. Returns the
 * problems instead when any argument is malformed, so all of them can be shown at once.
 */
export function parseLabelArguments(args: readonly string[]): {ok: true, patch: Record<string, string | null>} | {ok: false, problems: LabelProblem[]} {
  const patch: Record<string, string | null> = {}
  const problems: LabelProblem[] = []
  for (const arg of args) {
    const eq = arg.indexOf('=')
    if (eq === -1 && arg.endsWith('-') && arg.length > 1) {
      const key = arg.slice(0, -1)
      const p = labelKeyProblem(key)
      if (p) problems.push({path: arg, message: `invalid key: ${p}`})
      else patch[key] = null
      continue
    }
    if (eq <= 0) {
      problems.push({path: arg, message: 'expected key=value to set a label or key- to remove one'})
      continue
    }
    const key = arg.slice(0, eq)
    const value = arg.slice(eq + 1)
    const kp = labelKeyProblem(key)
    const vp = labelValueProblem(value)
    if (kp) problems.push({path: arg, message: `invalid key: ${kp}`})
    if (vp) problems.push({path: arg, message: `invalid value: ${vp}`})
    if (!kp && !vp) patch[key] = value
  }
  return problems.length > 0 ? {ok: false, problems} : {ok: true, patch}
}
