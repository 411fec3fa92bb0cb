/**
 * Presenting a join token: before it onboards, the agent tells the fleet manager's operator-side
 * join endpoint (outside the Margo device interface, which stays exactly as specified) the
 * fingerprint of the certificate it will onboard with, with the join token as the credential.
 * That certificate is then preauthorised, and the onboarding that follows is accepted as active.
 *
 * It is done once per server, certificate and token: the outcome is kept in the state dir so a
 * restart does not spend another use. Only the token's SHA-256 is kept there, never the token.
 */
import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {writeFileAtomic} from '../util/fs.ts'
import {readBodyCapped, transportErrorFrom, type FetchLike} from './device-client.ts'
import {WfmResponseError} from './runtime/errors.ts'
import type {StateStore} from './state/state-dir.ts'

export const JOIN_FILE = 'join.json'
/** Where the fleet manager takes join tokens: its operator API, never the device interface. */
export const JOIN_PATH = '/operator/v1/join'

export interface JoinRecord {
  server: string
  /** `sha256:<hex>` of the certificate's DER. */
  fingerprint: string
  /** SHA-256 (hex) of the token presented: tells a new token from the one already presented. */
  tokenSha256: string
  at: string
  outcome: 'admitted' | 'refused'
  joinTokenId?: string
  labels?: Record<string, string>
  code?: string
  message?: string
}

export const tokenSha256 = (token: string) => createHash('sha256').update(token.trim()).digest('hex')

/** Whether the token still has to be presented: not yet for this server, certificate and token. */
export function needsJoin(record: JoinRecord | null, current: {server: string, fingerprint: string, tokenSha256: string}): boolean {
  if (!record) return true
  const sameServer = record.server.replace(/\/+$/, '') === current.server.replace(/\/+$/, '')
  return !(sameServer && record.fingerprint === current.fingerprint && record.tokenSha256 === current.tokenSha256)
}

/** The join endpoint of the fleet manager at `server` (its origin; the device interface's prefix does not apply). */
export const joinUrl = (server: string) => new URL(JOIN_PATH, server).href

function isJoinRecord(v: unknown): v is JoinRecord {
  const r = v as Partial<JoinRecord> | null
  return typeof r === 'object' && r !== null && typeof r.server === 'string' && typeof r.fingerprint === 'string' && typeof r.tokenSha256 === 'string' && (r.outcome === 'admitted' || r.outcome === 'refused')
}

export const loadJoinRecord = (state: StateStore): JoinRecord | null => state.readJson(JOIN_FILE, isJoinRecord)

export function saveJoinRecord(stateDir: string, record: JoinRecord) {
  // Owner-only: it names the server and the token's hash, which are nobody else's business.
  writeFileAtomic(join(stateDir, JOIN_FILE), `${JSON.stringify(record, null, 2)}\n`, 0o600)
}

export type JoinAnswer =
  | {ok: true, joinTokenId: string, labels: Record<string, string>, repeated: boolean}
  | {ok: false, status: number, code: string, message: string}

/**
 * One presentation. A refusal (4xx) is an answer; an unreachable server or its own trouble
 * (429, 5xx) throws, so the caller retries with back-off.
 */
export async function presentJoinToken(opts: {server: string, caPem: string, token: string, fingerprint: string, fetch?: FetchLike, timeoutMs?: number}): Promise<JoinAnswer> {
  const url = joinUrl(opts.server)
  const timeoutMs = opts.timeoutMs ?? 30_000
  const fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init))
  let response: Response
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers: {'content-type': 'application/json', accept: 'application/json'},
      body: JSON.stringify({token: opts.token.trim(), fingerprint: opts.fingerprint}),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
      tls: {ca: opts.caPem},
    } as RequestInit)
  } catch (err) {
    throw transportErrorFrom(err, url, timeoutMs)
  }
  const bytes = await readBodyCapped(response, 64 * 1024, url, timeoutMs)
  let body: Record<string, unknown> = {}
  try {
    body = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
  } catch { /* judged by the status below */ }
  if (response.status === 200) {
    return {ok: true, joinTokenId: String(body.joinTokenId ?? ''), labels: (body.labels ?? {}) as Record<string, string>, repeated: body.repeated === true}
  }
  const error = (body.error ?? {}) as {code?: unknown, message?: unknown}
  if (response.status === 429 || response.status >= 500) {
    throw new WfmResponseError(response.status, response.headers.get('retry-after'), {detail: typeof error.message === 'string' ? error.message : undefined}, 'join')
  }
  return {
    ok: false, status: response.status,
    code: typeof error.code === 'string' ? error.code : `http_${response.status}`,
    message: typeof error.message === 'string' ? error.message : `the fleet manager answered ${response.status} at ${url} (is it a margo serve that takes join tokens?)`,
  }
}
