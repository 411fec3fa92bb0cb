import type {KeyObject} from 'node:crypto'
import {httpbis} from 'http-message-signatures'
import {isInnerList, parseDictionary, serializeItem, serializeList, type BareItem, type InnerList, type Item} from 'structured-headers'
import {algorithmMatchesKey, candidateAlgorithms, isSignatureAlgorithm, verifyBytes, type SignatureAlgorithm} from './algorithms.ts'
import {checkContentDigest} from './digest.ts'
import {lowercaseHeaders} from './headers.ts'

export interface VerifiableRequest {
  method: string
  /** The canonical absolute target URI, rebuilt by the server from its external base URL. */
  url: string
  headers: Headers | Record<string, string>
  body: Uint8Array
}

export interface VerifyOptions {
  /** Found from the clientId in the path, never from `keyid`. */
  publicKey: KeyObject
  /** Unix seconds; defaults to the wall clock. */
  now?: number
  /** Oldest acceptable `created`, in seconds (default 300). */
  maxAgeSeconds?: number
  /** How far `created` may lie in the future, and the grace on `expires`, in seconds (default 60). */
  skewSeconds?: number
}

export type VerifyFailureReason =
  | 'missing'
  | 'malformed'
  | 'digest-not-covered'
  | 'target-not-covered'
  | 'expired'
  | 'future'
  | 'unsupported-algorithm'
  | 'bad-signature'

export type VerifyResult =
  | {ok: true, label: string, alg: SignatureAlgorithm, keyid?: string, created: number, covered: string[]}
  | {ok: false, reason: VerifyFailureReason, detail: string}

/**
 * Derived components a request verifier can resolve. `@status` belongs to responses and `;req`
 * binds to a request a request does not have, so both are refused as malformed.
 */
const DERIVED = new Set(['@method', '@target-uri', '@authority', '@scheme', '@path', '@query', '@request-target', '@query-param'])

function fail(reason: VerifyFailureReason, detail: string): VerifyResult {
  return {ok: false, reason, detail}
}

function isWholeSeconds(value: BareItem | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value)
}

/** The component as it would be listed for a human: name, then any parameters. */
function describeComponent(item: Item): string {
  const serialized = serializeItem(item)
  const name = item[0] as string
  return item[1].size === 0 ? name : `${name}${serialized.slice(serialized.indexOf('";') + 1)}`
}

/** RFC 8941 sf-string serialization of a parsed (hence ASCII) string. */
const quoted = (s: string) => `"${s.replace(/[\\"]/g, '\\$&')}"`

/**
 * The signature base for components without parameters (what every Margo device sends), built
 * directly. It yields exactly what `http-message-signatures` builds for them, without that
 * library's serialize/quote/parse round trips per component, which cost as much as the rest of
 * a poll. Components with parameters (`;sf`, `;key`, `;bs`, `;name`) still go through the library.
 */
export function plainSignatureBase(names: string[], lowerNames: string[], req: {method: string, url: string}, headers: Record<string, string>): string[] {
  let url: URL | undefined
  const parsed = () => (url ??= new URL(req.url))
  return names.map((name, i) => {
    const lower = lowerNames[i] as string
    let value: string
    switch (lower) {
      case '@method': value = req.method.toUpperCase(); break
      case '@target-uri': value = req.url; break
      case '@authority': {
        const {port, protocol, hostname} = parsed()
        value = hostname.toLowerCase()
        if (port && ((protocol === 'http:' && port !== '80') || (protocol === 'https:' && port !== '443'))) value += `:${port}`
        break
      }
      case '@scheme': value = parsed().protocol.slice(0, -1); break
      case '@request-target': value = parsed().pathname + parsed().search; break
      case '@path': value = parsed().pathname || '/'; break
      case '@query': value = parsed().search || '?'; break
      default: {
        const field = headers[lower]
        if (field === undefined || lower.startsWith('@')) throw new Error(`cannot derive ${name}`)
        value = field.trim().replace(/\n\s*/gm, ' ')
      }
    }
    return `${quoted(name)}: ${value}`
  })
}

/**
 * Verifies an RFC 9421 request signature under the Margo profile.
 *
 * Signature-base construction reuses `http-message-signatures` (`createSignatureBase`, which keeps
 * each identifier as written while matching header names case-insensitively, and
 * `formatSignatureBase`). The library's `verifyMessage` is not used because it reads the wall
 * clock with no way to inject time, reports an expired and a future `created` as the same error,
 * chains every label through one `reduce` so the last one decides, returns `null` instead of a
 * reason, and checks neither the Margo coverage rules nor Content-Digest.
 */
export async function verifyRequest(req: VerifiableRequest, opts: VerifyOptions): Promise<VerifyResult> {
  const headers = lowercaseHeaders(req.headers)
  const inputHeader = headers['signature-input']
  const signatureHeader = headers['signature']
  if (!inputHeader?.trim() || !signatureHeader?.trim()) {
    return fail('missing', 'Signature and Signature-Input headers are required')
  }

  let inputs: ReturnType<typeof parseDictionary>
  let signatures: ReturnType<typeof parseDictionary>
  try {
    inputs = parseDictionary(inputHeader)
    signatures = parseDictionary(signatureHeader)
  } catch (err) {
    return fail('malformed', `Signature or Signature-Input is not a valid structured field: ${(err as Error).message}`)
  }

  // Peers use different labels (sig, sig1, …); the first one that has both halves is verified.
  const label = [...inputs.keys()].find(name => signatures.has(name))
  if (label === undefined) return fail('malformed', 'no Signature-Input label has a matching Signature entry')
  const input = inputs.get(label) as Item | InnerList
  const signatureMember = signatures.get(label) as Item | InnerList
  if (!isInnerList(input)) return fail('malformed', `Signature-Input ${label} is not an inner list`)
  if (isInnerList(signatureMember) || !(signatureMember[0] instanceof ArrayBuffer) || signatureMember[0].byteLength === 0) {
    return fail('malformed', `Signature ${label} is not a non-empty byte sequence`)
  }
  const signature = new Uint8Array(signatureMember[0])

  const [items, params] = input
  const covered: string[] = []
  const lowerNames: string[] = []
  const seen = new Set<string>()
  let plain = true
  for (const item of items) {
    const name = item[0]
    if (typeof name !== 'string' || name === '') return fail('malformed', 'covered components must be non-empty strings')
    const lower = name.toLowerCase()
    if (lower === '@signature-params') return fail('malformed', '@signature-params cannot be a covered component')
    if (lower.startsWith('@') && !DERIVED.has(lower)) return fail('malformed', `unsupported derived component ${name}`)
    if (item[1].has('req')) return fail('malformed', `component ${name} uses ;req, which has no meaning on a request`)
    const bare = item[1].size === 0
    plain &&= bare
    const key = bare ? lower : serializeItem([lower, item[1]])
    if (seen.has(key)) return fail('malformed', `component ${name} is covered twice`)
    seen.add(key)
    covered.push(bare ? name : describeComponent(item))
    lowerNames.push(lower)
  }

  if (!lowerNames.includes('@method') || !lowerNames.includes('@target-uri')) {
    return fail('target-not-covered', 'the signature must cover "@method" and "@target-uri"')
  }
  const coversDigest = lowerNames.includes('content-digest')
  if (req.body.byteLength > 0 && !coversDigest) {
    return fail('digest-not-covered', 'a request with a body must cover "content-digest"')
  }

  const created = params.get('created')
  if (!isWholeSeconds(created)) return fail('malformed', 'the created parameter is required and must be an integer')
  const expires = params.get('expires')
  if (expires !== undefined && !isWholeSeconds(expires)) return fail('malformed', 'the expires parameter must be an integer')
  const keyid = params.get('keyid')
  if (keyid !== undefined && typeof keyid !== 'string') return fail('malformed', 'the keyid parameter must be a string')
  const algParam = params.get('alg')
  if (algParam !== undefined && typeof algParam !== 'string') return fail('malformed', 'the alg parameter must be a string')

  const now = opts.now ?? Math.floor(Date.now() / 1000)
  const maxAge = opts.maxAgeSeconds ?? 300
  const skew = opts.skewSeconds ?? 60
  if (created > now + skew) return fail('future', `created ${created} is more than ${skew}s ahead of ${now}`)
  if (now - created > maxAge) return fail('expired', `created ${created} is more than ${maxAge}s before ${now}`)
  if (expires !== undefined && now - skew > expires) return fail('expired', `the signature expired at ${expires}`)

  let algorithms: SignatureAlgorithm[]
  if (algParam !== undefined) {
    if (!isSignatureAlgorithm(algParam)) return fail('unsupported-algorithm', `algorithm ${algParam} is not supported`)
    if (!algorithmMatchesKey(algParam, opts.publicKey)) {
      return fail('unsupported-algorithm', `algorithm ${algParam} does not match the client's ${opts.publicKey.asymmetricKeyType ?? 'unknown'} key`)
    }
    algorithms = [algParam]
  } else {
    algorithms = candidateAlgorithms(opts.publicKey)
    if (algorithms.length === 0) {
      return fail('unsupported-algorithm', `no supported algorithm for the client's ${opts.publicKey.asymmetricKeyType ?? 'unknown'} key`)
    }
  }

  for (const [index, item] of items.entries()) {
    const lower = lowerNames[index] as string
    if (!lower.startsWith('@') && headers[lower] === undefined) {
      return fail('bad-signature', `covered field ${item[0] as string} is absent from the request`)
    }
  }
  // The signed digest must describe the bytes received; otherwise a valid signature over a
  // digest header could smuggle a different body.
  if (coversDigest) {
    const digest = checkContentDigest(headers['content-digest'], req.body)
    if (digest !== 'ok') return fail('bad-signature', `content-digest is ${digest} for the received body`)
  }

  let base: string
  try {
    if (plain) {
      base = [...plainSignatureBase(items.map(item => item[0] as string), lowerNames, req, headers), `"@signature-params": ${serializeList([input])}`].join('\n')
    } else {
      const lines = httpbis.createSignatureBase(
        {fields: items.map(item => serializeItem(item))},
        {method: req.method, url: req.url, headers},
      )
      lines.push(['"@signature-params"', [serializeList([input])]])
      base = httpbis.formatSignatureBase(lines)
    }
  } catch (err) {
    return fail('malformed', `the signature base cannot be rebuilt: ${(err as Error).message}`)
  }

  const data = Buffer.from(base, 'utf8')
  const alg = algorithms.find(candidate => verifyBytes(candidate, opts.publicKey, data, signature))
  if (alg === undefined) return fail('bad-signature', 'the signature does not verify with the client key')

  const result: VerifyResult = {ok: true, label, alg, created, covered}
  if (keyid !== undefined) result.keyid = keyid
  return result
}

/** Exposed for diagnostics and conformance tooling: the exact bytes a signature covers. */
export function signatureBaseFor(req: {method: string, url: string, headers: Headers | Record<string, string>}, label?: string): string | null {
  const headers = lowercaseHeaders(req.headers)
  try {
    const inputs = parseDictionary(headers['signature-input'] ?? '')
    const name = label ?? [...inputs.keys()][0]
    const input = name === undefined ? undefined : inputs.get(name)
    if (!input || !isInnerList(input)) return null
    const lines = httpbis.createSignatureBase({fields: input[0].map(item => serializeItem(item))}, {method: req.method, url: req.url, headers})
    lines.push(['"@signature-params"', [serializeList([input])]])
    return httpbis.formatSignatureBase(lines)
  } catch {
    return null
  }
}
