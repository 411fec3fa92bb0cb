import {createHash} from 'node:crypto'
import canonicalize from 'canonicalize'
import {referencesIn, shownReference} from '../secrets/references.ts'

/** Keys whose values are never written to the audit log, not even hashed: a hash of a guessable secret can be brute-forced. */
const SECRET_KEY = /pass(word|phrase)?|secret|token|api[-_]?key|private|credential|auth/i
/** Longer strings (certificates, YAML) are recorded by hash: the log records what changed, not the bytes. */
const LONG = 256

export const REDACTED = '<redacted>'

const digest = (v: unknown) => 'sha256:' + createHash('sha256').update(canonicalize(v) ?? 'null').digest('hex').slice(0, 16)

/**
 * A request body or change as the audit log keeps it: secret-looking keys become `<redacted>`,
 * every parameter value (anything under `values`) becomes a short hash (equal values stay
 * comparable, the value itself is not stored), long strings become their hash.
 */
export function redactSummary(value: unknown, key = '', underValues = false): unknown {
  if (key && SECRET_KEY.test(key)) return value === null || value === undefined ? value : REDACTED
  // A reference names a secret, not its value: a value that is one reference shows as <secret:NAME>;
  // text around references is the operator's own and is hashed like any value, the names beside it.
  if (underValues && typeof value === 'string' && referencesIn(value).length > 0) {
    const names = referencesIn(value)
    return value === `\${secret:${names[0]}}` ? shownReference(names[0]!) : `${digest(value)} with ${names.map(shownReference).join(' ')}`
  }
  if (underValues) return value === null ? null : digest(value)
  if (typeof value === 'string') return value.length > LONG ? digest(value) : value
  if (Array.isArray(value)) return value.map(v => redactSummary(v, '', false))
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      if (k === 'values' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
        out[k] = Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, SECRET_KEY.test(pk) && pv !== null ? REDACTED : redactSummary(pv, '', true)]))
      } else {
        out[k] = redactSummary(v, k, false)
      }
    }
    return out
  }
  return value
}
