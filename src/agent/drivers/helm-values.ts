import {stringify} from 'yaml'
import type {ApplicationDeployment, ParameterValue} from '../../margo/deployment.ts'
import {DriverError} from './errors.ts'

export type PathSegment = {key: string} | {index: number}

/** Helm refuses larger list indexes in `--set` too. */
const MAX_LIST_INDEX = 65536

/**
 * Parses a values pointer in helm's `--set` key syntax: keys separated by `.`, a backslash makes
 * the next character literal (`a\.b` is the single key `a.b`), `[n]` indexes a list (`a[0].b`,
 * `m[1][2]`). Throws a plain Error describing the first problem.
 */
export function parseValuesPointer(pointer: string): PathSegment[] {
  const segments: PathSegment[] = []
  let i = 0
  const fail = (why: string): never => {
    throw new Error(`pointer ${JSON.stringify(pointer)} ${why} (at character ${i + 1})`)
  }
  for (;;) {
    let key = ''
    let sawKey = false
    while (i < pointer.length && pointer[i] !== '.' && pointer[i] !== '[') {
      if (pointer[i] === ']') fail("has a ']' without '['")
      if (pointer[i] === '\\') {
        i++
        if (i >= pointer.length) fail('ends with a lone backslash')
      }
      key += pointer[i]
      sawKey = true
      i++
    }
    if (!sawKey) fail(i >= pointer.length ? 'ends without a key' : 'has an empty key')
    segments.push({key})
    while (pointer[i] === '[') {
      const close = pointer.indexOf(']', i)
      const digits = close < 0 ? '' : pointer.slice(i + 1, close)
      if (!/^\d+$/.test(digits)) fail('has a list index that is not a number in [..]')
      const index = Number(digits)
      if (index > MAX_LIST_INDEX) fail(`has a list index above ${MAX_LIST_INDEX}`)
      segments.push({index})
      i = close + 1
    }
    if (i >= pointer.length) return segments
    if (pointer[i] !== '.') fail("needs a '.' or '[' after ']'")
    i++
  }
}

type Node = Map<string, Node> | Node[] | ParameterValue | null

/**
 * Sets a value at a path, creating maps and lists on the way. A later pointer that needs a map
 * or list where an earlier one put something else replaces it, as with repeated `--set` flags.
 * Maps are `Map`s so keys such as `__proto__` are ordinary keys.
 */
export function setAtPath(root: Map<string, Node>, path: readonly PathSegment[], value: ParameterValue): void {
  let container: Map<string, Node> | Node[] = root
  path.forEach((segment, n) => {
    const last = n === path.length - 1
    const next = path[n + 1]
    const fresh = (): Node => (next && 'index' in next ? [] : new Map())
    const read = (): Node | undefined => ('key' in segment ? (container as Map<string, Node>).get(segment.key) : (container as Node[])[segment.index])
    const write = (node: Node) => {
      if ('key' in segment) (container as Map<string, Node>).set(segment.key, node)
      else {
        const list = container as Node[]
        while (list.length < segment.index) list.push(null)
        list[segment.index] = node
      }
    }
    if (last) {
      write(Array.isArray(value) ? [...value] : value)
      return
    }
    let child = read()
    const wantList = next !== undefined && 'index' in next
    if (wantList ? !Array.isArray(child) : !(child instanceof Map)) {
      child = fresh()
      write(child)
    }
    container = child as Map<string, Node> | Node[]
  })
}

/**
 * The values document for one component: every parameter whose targets name the component, in
 * the order the deployment lists them, at its pointer, with its own type (120 stays a number,
 * "120" and "true" stay strings).
 */
export function buildHelmValues(deployment: ApplicationDeployment, componentName: string): Map<string, Node> {
  const root = new Map<string, Node>()
  for (const [name, parameter] of Object.entries(deployment.spec.parameters)) {
    for (const target of parameter.targets) {
      if (!target.components.includes(componentName)) continue
      let path: PathSegment[]
      try {
        path = parseValuesPointer(target.pointer)
      } catch (e) {
        throw new DriverError('HELM_VALUES_INVALID', `parameter ${name}: ${(e as Error).message}`)
      }
      setAtPath(root, path, parameter.value)
    }
  }
  return root
}

/**
 * YAML that Go's yaml.v2 (helm) and YAML 1.2 readers load identically: every string, key or
 * value, is double-quoted with JSON escapes, so `yes`, `on`, `0755`, `1.0`, `~` or `1_000` can
 * never turn into booleans, numbers or null; numbers and booleans stay plain.
 */
export function renderValuesYaml(values: Map<string, Node>): string {
  return stringify(toPlain(values), {
    version: '1.1',
    defaultStringType: 'QUOTE_DOUBLE',
    defaultKeyType: null,
    doubleQuotedAsJSON: true,
    lineWidth: 0,
  })
}

/**
 * Maps as prototype-less objects: the YAML 1.1 writer would tag a Map as `!!omap`, and a
 * prototype-less object takes `__proto__` as an ordinary key.
 */
function toPlain(node: Node | undefined): unknown {
  if (node instanceof Map) {
    const out = Object.create(null) as Record<string, unknown>
    for (const [k, v] of node) out[k] = toPlain(v)
    return out
  }
  if (Array.isArray(node)) return node.map(n => toPlain(n))
  return node
}

export function helmValuesYaml(deployment: ApplicationDeployment, componentName: string): string {
  return renderValuesYaml(buildHelmValues(deployment, componentName))
}
