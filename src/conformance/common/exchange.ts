import {createHash} from 'node:crypto'
import type {RecordedRequest, RecordedResponse} from './report.ts'

/** A request exactly as a runner wants it on the wire. Header names are lower-case. */
export interface WireRequest {
  method: string
  url: string
  headers: Record<string, string>
  body?: string
}

/** An answer, with the exact body bytes (digests are checked over them) and the text. */
export interface WireResponse {
  status: number
  /** Lower-case names; repeated fields joined with ", " as fetch does. */
  headers: Record<string, string>
  bytes: Uint8Array
  text: string
  /** The body parsed as JSON when it is JSON, else undefined. */
  json: unknown
}

/** A response built from parts (used by the HTTP shell and by tests). */
export function wireResponse(status: number, headers: Record<string, string>, bytes: Uint8Array | string): WireResponse {
  const body = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes
  const text = new TextDecoder().decode(body)
  let json: unknown
  if (text.trim() !== '') {
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
  }
  const lower: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v
  return {status, headers: lower, bytes: body, text, json}
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export const MAX_RECORDED_BODY = 2000

export function truncate(text: string, max = MAX_RECORDED_BODY): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`
}

function printable(text: string, bytes: number): string {
  // Bundles are gzip: show their size, not mojibake.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are how binary data is recognised
  return /[\u0000-\u0008\u000e-\u001f]/.test(text) ? `<${bytes} bytes of binary data>` : truncate(text)
}

export function recordRequest(req: WireRequest): RecordedRequest {
  return {method: req.method, url: req.url, headers: {...req.headers}, ...(req.body ? {body: truncate(req.body)} : {})}
}

export function recordResponse(res: WireResponse): RecordedResponse {
  return {status: res.status, headers: {...res.headers}, body: printable(res.text, res.bytes.byteLength)}
}

/**
 * A value from a response by dot path (`deployments.0.digest`); `_headers.<Name>` reads a header
 * case-insensitively. Undefined when any segment is missing.
 */
export function lookup(res: Pick<WireResponse, 'headers' | 'json'>, path: string): unknown {
  if (path.startsWith('_headers.')) return res.headers[path.slice('_headers.'.length).toLowerCase()]
  let value: unknown = res.json
  for (const segment of path.split('.')) {
    if (value === null || value === undefined) return undefined
    if (Array.isArray(value)) {
      if (!/^\d+$/.test(segment)) return undefined
      value = value[Number(segment)]
    } else if (typeof value === 'object') {
      value = Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined
    } else {
      return undefined
    }
  }
  return value
}
