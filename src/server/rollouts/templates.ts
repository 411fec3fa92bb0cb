/**
 * Device templates in parameter values: `${device.id}`, `${device.labels.<key>}` and
 * `${device.capabilities.<path>}` (a dotted path into the device's reported capabilities),
 * resolved per device. Other `${…}` forms are left for other resolvers (e.g. secrets), so
 * this module only owns the `device.` namespace.
 */

export interface TemplateDevice {
  clientId: string
  labels: Readonly<Record<string, string>>
  /** Reported capabilities document; null before the device reported. */
  capabilities: unknown
}

export interface TemplateProblem {
  path: string
  message: string
}

const PLACEHOLDER = /\$\{\s*(device(?:\.[^}\s]*)?)\s*\}/g

/** Checks the template syntax in values, without a device: what cannot resolve on any device. */
export function checkTemplates(values: Readonly<Record<string, unknown>>, prefix = 'values'): TemplateProblem[] {
  const problems: TemplateProblem[] = []
  walk(values, prefix, (text, path) => {
    for (const m of text.matchAll(PLACEHOLDER)) {
      const ref = m[1]!
      if (ref === 'device.id' || /^device\.labels\.[^.]+(?:\.[^.]+)*$/.test(ref) || /^device\.capabilities(\.[A-Za-z0-9_-]+)+$/.test(ref)) continue
      problems.push({path, message: `${m[0]}: use \${device.id}, \${device.labels.<key>} or \${device.capabilities.<path>}`})
    }
    if (/\$\{device/.test(text.replace(PLACEHOLDER, ''))) problems.push({path, message: `an unclosed \${device… template in ${JSON.stringify(text)}`})
  })
  return problems
}

function walk(v: unknown, path: string, visit: (text: string, path: string) => void) {
  if (typeof v === 'string') visit(v, path)
  else if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`, visit)
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`, visit)
}

function lookup(ref: string, device: TemplateDevice): {ok: true, value: string} | {ok: false, message: string} {
  if (ref === 'device.id') return {ok: true, value: device.clientId}
  if (ref.startsWith('device.labels.')) {
    const key = ref.slice('device.labels.'.length)
    const value = device.labels[key]
    return value === undefined ? {ok: false, message: `the device has no label ${key}`} : {ok: true, value}
  }
  if (ref.startsWith('device.capabilities.')) {
    let at: unknown = device.capabilities
    if (at == null) return {ok: false, message: 'the device has not reported its capabilities yet'}
    for (const part of ref.slice('device.capabilities.'.length).split('.')) {
      at = at && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined
    }
    if (at === undefined || at === null || typeof at === 'object') return {ok: false, message: `capabilities have no value at ${ref.slice('device.'.length)}`}
    return {ok: true, value: String(at)}
  }
  return {ok: false, message: `unknown template \${${ref}}`}
}

/** The values with every `${device.…}` replaced for this device, or each one that does not resolve. */
export function renderTemplates(values: Readonly<Record<string, unknown>>, device: TemplateDevice): {ok: true, values: Record<string, unknown>} | {ok: false, problems: TemplateProblem[]} {
  const problems: TemplateProblem[] = []
  const render = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      return v.replace(PLACEHOLDER, (whole, ref: string) => {
        const r = lookup(ref, device)
        if (r.ok) return r.value
        problems.push({path, message: `${whole}: ${r.message}`})
        return whole
      })
    }
    if (Array.isArray(v)) return v.map((x, i) => render(x, `${path}[${i}]`))
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, render(x, `${path}.${k}`)]))
    return v
  }
  const out = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, render(v, k)]))
  return problems.length > 0 ? {ok: false, problems} : {ok: true, values: out}
}
