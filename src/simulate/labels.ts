import {labelKeyProblem, labelValueProblem} from '../operator-contract/labels.ts'
import {ValidationError} from '../util/errors.ts'

/** One `--labels` argument: a key with one value for every device, or several spread over them. */
export interface LabelSpec {
  key: string
  values: string[]
}

const RANGE = /\{(\d+)\.\.(\d+)\}/
const LIST = /\{([^{}]*,[^{}]*)\}/
const MAX_VALUES = 10_000

/**
 * Expands the braces of a value: `plant-{1..5}` → plant-1 … plant-5, `{eu,us}-edge` → eu-edge,
 * us-edge. One brace group at most, so the number of values stays obvious.
 */
export function expandValues(template: string): string[] {
  const range = RANGE.exec(template)
  if (range) {
    const from = Number(range[1])
    const to = Number(range[2])
    if (to < from) throw new Error(`the range {${range[1]}..${range[2]}} counts down; write {${range[2]}..${range[1]}}`)
    if (to - from + 1 > MAX_VALUES) throw new Error(`the range {${range[1]}..${range[2]}} has more than ${MAX_VALUES} values`)
    const width = range[1]!.startsWith('0') && range[1]!.length > 1 ? range[1]!.length : 0
    const head = template.slice(0, range.index)
    const tail = template.slice(range.index + range[0].length)
    return Array.from({length: to - from + 1}, (_, i) => `${head}${String(from + i).padStart(width, '0')}${tail}`)
  }
  const list = LIST.exec(template)
  if (list) {
    const head = template.slice(0, list.index)
    const tail = template.slice(list.index + list[0].length)
    return list[1]!.split(',').map(v => `${head}${v}${tail}`)
  }
  return [template]
}

/**
 * `--labels` arguments (`k=v`, `site=plant-{1..5}`, several per argument separated by commas
 * outside braces) → specs. Values given for the same key in several arguments are spread too.
 */
export function parseLabelSpecs(args: readonly string[]): LabelSpec[] {
  const specs: LabelSpec[] = []
  const problems: {path: string, message: string}[] = []
  for (const arg of args.flatMap(splitOutsideBraces)) {
    const eq = arg.indexOf('=')
    if (eq <= 0) {
      problems.push({path: arg, message: 'expected key=value, or key=prefix-{1..N} to spread values over the devices'})
      continue
    }
    const key = arg.slice(0, eq)
    const keyProblem = labelKeyProblem(key)
    if (keyProblem) problems.push({path: arg, message: `invalid key: ${keyProblem}`})
    let values: string[] = []
    try {
      values = expandValues(arg.slice(eq + 1))
    } catch (err) {
      problems.push({path: arg, message: (err as Error).message})
    }
    for (const v of values) {
      const p = labelValueProblem(v)
      if (p) {
        problems.push({path: arg, message: `invalid value ${JSON.stringify(v)}: ${p}`})
        break
      }
    }
    // A shell expands an unquoted site=plant-{1..3} into three arguments: they spread the same way.
    const same = specs.find(s => s.key === key)
    if (same) same.values.push(...values.filter(v => !same.values.includes(v)))
    else specs.push({key, values})
  }
  if (problems.length > 0) throw new ValidationError('invalid --labels', problems)
  return specs
}

function splitOutsideBraces(arg: string): string[] {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const ch of arg) {
    if (ch === '{') depth++
    if (ch === '}') depth = Math.max(0, depth - 1)
    if (ch === ',' && depth === 0) {
      if (current) parts.push(current)
      current = ''
    } else current += ch
  }
  if (current) parts.push(current)
  return parts
}

/**
 * The labels of device number `index` (0-based): spread values go round-robin, so N devices
 * over k values give each value ⌊N/k⌋ or ⌈N/k⌉ devices, and the same index always gets the same
 * labels across runs.
 */
export function labelsFor(specs: readonly LabelSpec[], index: number): Record<string, string> {
  const out: Record<string, string> = {}
  for (const spec of specs) out[spec.key] = spec.values[index % spec.values.length]!
  return out
}
