import type {KeyObject} from 'node:crypto'
import {httpbis, type SignatureParameters} from 'http-message-signatures'
import {algorithmMatchesKey, defaultAlgorithm, signBytes, type SignatureAlgorithm} from './algorithms.ts'
import {contentDigest} from './digest.ts'
import {lowercaseHeaders} from './headers.ts'

export interface SignableRequest {
  method: string
  /** Absolute URL; it is normalised (WHATWG URL) so `@target-uri` equals what fetch puts on the wire. */
  url: string
  headers?: Record<string, string>
  body?: Uint8Array | string
}

export interface RequestSigner {
  privateKey: KeyObject
  keyId: string
  alg?: SignatureAlgorithm
  /** Dictionary key in Signature/Signature-Input; Margo uses `sig1`. */
  label?: string
  /** Unix seconds; defaults to now. */
  created?: number
  /** Unix seconds; omitted unless given. */
  expires?: number
  nonce?: string
  /** Send the `alg` parameter (default true). Some peers omit it and derive the algorithm from the key. */
  includeAlg?: boolean
  /** Covered components exactly as they should appear in Signature-Input, e.g. `"Content-Digest"` or `content-type`. */
  components?: string[]
}

/** The headers to add to the request: `content-digest` (when there is a body), `signature-input`, `signature`. */
export type SignatureHeaders = Record<string, string>

function unixNow(): number {
  return Math.floor(Date.now() / 1000)
}

function isWholeSeconds(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0
}

function componentName(component: string): string {
  return component.replace(/^"/, '').replace(/".*$/, '').replace(/;.*$/, '').toLowerCase()
}

/**
 * Signs a request with RFC 9421, adding an RFC 9530 `Content-Digest` when the body is non-empty.
 * Default coverage is `("@method" "@target-uri")`, plus `"content-digest"` with a body; params are
 * `created`, `keyid` and `alg`, in that order.
 */
export async function signRequest(req: SignableRequest, signer: RequestSigner): Promise<SignatureHeaders> {
  const url = new URL(req.url).href
  const body = req.body ?? new Uint8Array(0)
  const hasBody = (typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength) > 0
  const components = signer.components
    ?? (hasBody ? ['@method', '@target-uri', 'content-digest'] : ['@method', '@target-uri'])

  const headers = lowercaseHeaders(req.headers)
  // Signature headers already on the request would make the library append a second label.
  delete headers['signature']
  delete headers['signature-input']
  const out: SignatureHeaders = {}
  const coversDigest = components.some(c => componentName(c) === 'content-digest')
  if (hasBody || coversDigest) {
    // A caller-supplied digest wins so tests and tools can send deliberately wrong ones.
    headers['content-digest'] ??= contentDigest(body)
    out['content-digest'] = headers['content-digest']
  }

  const alg = signer.alg ?? defaultAlgorithm(signer.privateKey)
  if (!algorithmMatchesKey(alg, signer.privateKey)) {
    throw new Error(`algorithm ${alg} cannot be used with a ${signer.privateKey.asymmetricKeyType ?? signer.privateKey.type} key`)
  }
  const created = signer.created ?? unixNow()
  if (!isWholeSeconds(created)) throw new Error('created must be a positive integer (unix seconds)')
  if (signer.expires !== undefined && !isWholeSeconds(signer.expires)) {
    throw new Error('expires must be a positive integer (unix seconds)')
  }

  const params = ['created', 'keyid']
  const paramValues: SignatureParameters = {created: new Date(created * 1000), keyid: signer.keyId}
  if (signer.includeAlg !== false) {
    params.push('alg')
    paramValues.alg = alg
  }
  if (signer.expires !== undefined) {
    params.push('expires')
    paramValues.expires = new Date(signer.expires * 1000)
  }
  if (signer.nonce !== undefined) {
    params.push('nonce')
    paramValues.nonce = signer.nonce
  }

  const signed = await httpbis.signMessage({
    key: {id: signer.keyId, alg, sign: async (data: Buffer) => signBytes(alg, signer.privateKey, data)},
    name: signer.label ?? 'sig1',
    fields: components,
    params,
    paramValues,
  }, {method: req.method, url, headers})

  // The library returns the input type but adds `Signature` / `Signature-Input` with capitals.
  const result = lowercaseHeaders(signed.headers as Record<string, string>)
  const signature = result['signature']
  const signatureInput = result['signature-input']
  if (!signature || !signatureInput) throw new Error('signing produced no Signature headers')
  out['signature-input'] = signatureInput
  out['signature'] = signature
  return out
}
