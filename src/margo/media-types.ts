export const MANIFEST_MEDIA_TYPE = 'application/vnd.margo.manifest.v1+json'
export const BUNDLE_MEDIA_TYPE = 'application/vnd.margo.bundle.v1+tar+gzip'
export const YAML_MEDIA_TYPE = 'application/yaml'
export const PROBLEM_MEDIA_TYPE = 'application/problem+json'

interface MediaRange {
  type: string
  subtype: string
  q: number
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Splits on commas that are not inside a quoted parameter value. */
function splitList(header: string, separator: string): string[] {
  const parts: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < header.length; i++) {
    const c = header[i]!
    if (quoted && c === '\\') {
      current += c + (header[i + 1] ?? '')
      i++
      continue
    }
    if (c === '"') quoted = !quoted
    if (c === separator && !quoted) {
      parts.push(current)
      current = ''
      continue
    }
    current += c
  }
  parts.push(current)
  return parts
}

function parseRange(text: string): MediaRange | undefined {
  const [mediaType = '', ...params] = splitList(text, ';')
  const [type, subtype, ...rest] = mediaType.trim().toLowerCase().split('/')
  if (type === undefined || subtype === undefined || rest.length > 0 || !TOKEN.test(type) || !TOKEN.test(subtype)) return undefined
  if (type === '*' && subtype !== '*') return undefined
  let q = 1
  for (const param of params) {
    const eq = param.indexOf('=')
    if (eq < 0) continue
    if (param.slice(0, eq).trim().toLowerCase() !== 'q') continue
    const weight = param.slice(eq + 1).trim()
    // RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    if (!/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(weight)) return undefined
    q = Number(weight)
  }
  return {type, subtype, q}
}

/** 2 for an exact match, 1 for `type/*`, 0 for `*\/*`, -1 for no match. */
function specificity(range: MediaRange, type: string, subtype: string): number {
  if (range.type === '*') return 0
  if (range.type !== type) return -1
  if (range.subtype === '*') return 1
  return range.subtype === subtype ? 2 : -1
}

/**
 * RFC 9110 §12.5.1 proactive negotiation for one offered media type: is `offered` acceptable
 * under this `Accept` field value? The most specific matching range decides, so
 * `*\/*, application/vnd.margo.manifest.v1+json;q=0` excludes the manifest. Parameters other
 * than `q` are tolerated and do not restrict the match, because the manifest has only one
 * representation. Malformed members are ignored; a field with no usable member is treated as
 * absent, as if the client had expressed no preference. Several `Accept` header lines arrive
 * joined with commas, so the best member across all of them wins.
 */
export function negotiate(accept: string | null, offered: string): boolean {
  if (accept === null) return true
  const ranges = splitList(accept, ',').map(parseRange).filter((r): r is MediaRange => r !== undefined)
  if (ranges.length === 0) return true
  const [type = '', subtype = ''] = offered.toLowerCase().split(';')[0]!.trim().split('/')
  let best = -1
  let q = 0
  for (const range of ranges) {
    const s = specificity(range, type, subtype)
    if (s < 0) continue
    if (s > best) {
      best = s
      q = range.q
    } else if (s === best) {
      q = Math.max(q, range.q)
    }
  }
  return best >= 0 && q > 0
}
