import {parse as parseYaml, stringify as stringifyYaml} from 'yaml'

/**
 * `--print-config` of `margo serve` and `margo agent`: the effective settings as YAML that can be
 * pasted back into a config file, one key per line, each annotated with where its value came
 * from. Unset keys stay visible as comments. Callers redact secrets and format values first.
 */
export function renderSettings(settings: Readonly<Record<string, unknown>>, sources: Readonly<Record<string, string | undefined>>): string {
  const lines: string[] = []
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined || value === null) {
      lines.push(`# ${key}: (not set)`)
      continue
    }
    const comment = `  # from ${sources[key] ?? 'default'}`
    const inline = inlineValue(value)
    if (inline !== undefined) {
      lines.push(`${key}: ${inline}${comment}`)
      continue
    }
    // Mappings and lists of mappings read best as a YAML block under the key.
    const block = stringifyYaml({[key]: value}, {lineWidth: 0}).trimEnd().split('\n')
    block[0] = `${block[0]}${comment}`
    lines.push(...block)
  }
  return lines.join('\n')
}

type Scalar = string | number | boolean

const isScalar = (v: unknown): v is Scalar => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'

/** A scalar, or a list of scalars as a one-line flow list; undefined for what needs a block. */
function inlineValue(value: unknown): string | undefined {
  if (isScalar(value)) return scalar(value)
  if (Array.isArray(value) && value.every(isScalar)) return `[${value.map(v => JSON.stringify(v)).join(', ')}]`
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return '{}'
  return undefined
}

/** Plain where YAML reads the text back unchanged, double-quoted otherwise (`""`, `":8443"`, `"1.3"`). */
function scalar(value: Scalar): string {
  if (typeof value !== 'string') return String(value)
  const plain = value !== '' && !/^[\s:?\-[\]{},#&*!|>'"%@`]|\s$|: | #|\p{Cc}/u.test(value) && readsBack(value)
  return plain ? value : JSON.stringify(value)
}

function readsBack(text: string): boolean {
  try {
    return parseYaml(text) === text
  } catch {
    return false
  }
}
