import {isRecord} from './check.ts'
import {joinPath, type FieldError} from './result.ts'

/**
 * Bounds on what a device may make the WFM store. Every stored document is later read back,
 * serialized and rendered for the whole fleet, so one device must not be able to hand the
 * server something that cannot be read back (nesting deeper than a call stack) or that makes
 * every view of the fleet slow (megabytes of extension members). The limits are far above what
 * any honest report needs: the spec's documents are a few levels deep and a few hundred members.
 */
export interface DocumentLimits {
  /** Deepest nesting of objects and arrays; the document itself is depth 0. */
  maxDepth: number
  /** Object members plus array elements, counted over the whole document. */
  maxEntries: number
  /** Serialized size (UTF-8 bytes) of each `x-…` member, e.g. `x-acme-extensions`. */
  maxExtensionBytes: number
}

export const DEVICE_DOCUMENT_LIMITS: DocumentLimits = {
  maxDepth: 32,
  maxEntries: 10_000,
  maxExtensionBytes: 64 * 1024,
}

/**
 * Largest DeploymentStatusManifest body accepted, below the general request body limit: a
 * report names a deployment's components with a state and an error each, which fits in a few
 * kilobytes; the rest would only fill the status timeline.
 */
export const STATUS_REPORT_MAX_BYTES = 64 * 1024

/** Specification extension members (`x-<name>-extensions`), and any other `x-` member. */
const isExtensionKey = (key: string) => key.startsWith('x-')

interface Pending {
  value: unknown
  path: string
  depth: number
}

/**
 * Checks a parsed document against the limits without recursion, so a hostile document cannot
 * overflow the stack of the check itself. Returns at most one problem per limit (the first
 * found) plus one per oversized extension member, each naming its path.
 */
export function checkDocumentBounds(json: unknown, limits: DocumentLimits = DEVICE_DOCUMENT_LIMITS): FieldError[] {
  const errors: FieldError[] = []
  const extensions: {path: string, value: unknown}[] = []
  const stack: Pending[] = [{value: json, path: '', depth: 0}]
  let entries = 0
  let tooDeep = false
  while (stack.length > 0) {
    const {value, path, depth} = stack.pop()!
    if (typeof value !== 'object' || value === null) continue
    if (depth >= limits.maxDepth) {
      if (!tooDeep) errors.push({field: path, message: `is nested deeper than ${limits.maxDepth} levels`, code: 'too_deep'})
      tooDeep = true
      continue
    }
    const children: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value)
    entries += children.length
    if (entries > limits.maxEntries) {
      errors.push({field: path, message: `makes the document hold more than ${limits.maxEntries} members and array elements`, code: 'too_many_entries'})
      return errors
    }
    // Reversed, so the first child is looked at first and problems come in document order.
    for (let i = children.length - 1; i >= 0; i--) {
      const [key, child] = children[i]!
      const at = joinPath(path, key)
      if (typeof key === 'string' && isExtensionKey(key) && isRecord(value)) extensions.push({path: at, value: child})
      stack.push({value: child, path: at, depth: depth + 1})
    }
  }
  // Serializing is safe only once the depth is known to be bounded.
  if (!tooDeep) {
    for (const {path, value} of extensions.reverse()) {
      const bytes = Buffer.byteLength(JSON.stringify(value) ?? '')
      if (bytes > limits.maxExtensionBytes) {
        errors.push({field: path, message: `is ${bytes} bytes; an extension member may take at most ${limits.maxExtensionBytes}`, code: 'too_large'})
      }
    }
  }
  return errors
}

/**
 * Reads JSON the server stored earlier from a device, never throwing: undefined when the text
 * is not JSON or breaks the limits (a record stored before they existed). Views show such a
 * record as unreadable instead of failing for the whole fleet.
 */
export function readStoredJson(text: string, limits: DocumentLimits = DEVICE_DOCUMENT_LIMITS): unknown {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  return checkDocumentBounds(value, limits).length === 0 ? value : undefined
}

/**
 * Rows kept in each deployment's status timeline, by default (`margo serve --status-retention`).
 * Rows are changes: a run of identical reports is one row with a count, so this many changes
 * reach far back, while a device reporting in a loop cannot grow the store without end.
 */
export const STATUS_TIMELINE_RETENTION = 100

/**
 * How fast one device may send status reports: a burst (a deployment of many components
 * reports each step of each component) and a sustained rate. Beyond it: 429 with Retry-After.
 */
export const STATUS_REPORT_RATE = {burst: 60, perSecond: 1}
