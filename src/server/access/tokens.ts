/**
 * Operator tokens: 256-bit random bearer tokens, stored as their SHA-256.
 *
 * A fast hash is enough here and a slow one (bcrypt, argon2) would only cost: slow hashes
 * protect guessable passwords, while a 256-bit random token cannot be guessed from its
 * hash however fast the hash is. A slow hash on every API request would also hand anyone
 * able to send requests an easy way to burn the server's CPU.
 */
import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'
import {ROLES, type Principal as PrincipalView, type Role, type TokenInfo} from '../../operator-contract/views.ts'
import {badRequest, conflict, invalid, notFound} from '../domain-errors.ts'
import {getToken, getTokenByHash, insertToken, listTokens, revokeToken, setTokenHash, touchToken, type TokenRecord} from '../store/tokens-repo.ts'
import type {Store} from '../store/store.ts'
import {ROLE_PERMISSIONS} from './permissions.ts'
import {describeSelectorError, formatSelector, parseSelector, type Selector} from '../../operator-contract/selector.ts'

export const BOOTSTRAP_TOKEN_NAME = 'bootstrap'
const TOKEN_PREFIX = 'margo_'
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/
/** last_used_at is a hint, not a log: written at most this often per token. */
const TOUCH_EVERY_MS = 60_000

export interface Principal {
  name: string
  role: Role
  scope: Selector | null
  scopeText: string | null
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex')

export const tokenInfo = ({tokenHash: _, ...info}: TokenRecord): TokenInfo => info

export function principalView(p: Principal): PrincipalView {
  return {name: p.name, role: p.role, scope: p.scopeText, permissions: [...ROLE_PERMISSIONS[p.role]]}
}

/** `30d`, `12h`, `90m`, `2w`, `1y` (or `30s`, for short-lived join tokens) from now. */
export function parseExpiry(text: string, now: Date): Date {
  const m = /^(\d{1,6})([smhdwy])$/.exec(text.trim())
  if (!m) throw invalid('invalid_expiry', `expires ${JSON.stringify(text)} is not a duration such as 30s, 90m, 12h, 30d, 2w or 1y`, [{path: 'expires', message: 'not a duration'}])
  const unit = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000}[m[2] as 's' | 'm' | 'h' | 'd' | 'w' | 'y']
  const ms = Number(m[1]) * unit
  if (ms <= 0) throw invalid('invalid_expiry', 'expires must be in the future', [{path: 'expires', message: 'zero'}])
  return new Date(now.getTime() + ms)
}

/** The data dir's operator token (from the first start) is the admin token `bootstrap`; a revoked one stays revoked. */
export function ensureBootstrapToken(store: Store, token: string, now: Date) {
  const hash = hashToken(token)
  store.transaction(() => {
    const existing = getToken(store, BOOTSTRAP_TOKEN_NAME)
    if (!existing) {
      insertToken(store, {
        name: BOOTSTRAP_TOKEN_NAME, role: 'admin', scope: null, tokenHash: hash, createdAt: now.toISOString(), createdBy: 'system',
        expiresAt: null, revokedAt: null, lastUsedAt: null,
      })
    } else if (existing.revokedAt === null && existing.tokenHash !== hash) {
      setTokenHash(store, BOOTSTRAP_TOKEN_NAME, hash)
    }
  })
}

export type Authentication =
  | {ok: true, principal: Principal}
  | {ok: false, code: 'missing_token' | 'unknown_token' | 'token_expired' | 'token_revoked', message: string}

const HELP = 'pass --token, set MARGO_TOKEN, or run on the server with --data-dir'

/** Who the Authorization header names, or why it names nobody (each answered 401 with its code). */
export function authenticate(store: Store, header: string | null, now: Date): Authentication {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '')
  if (!m) return {ok: false, code: 'missing_token', message: `no operator token — ${HELP}`}
  const given = hashToken(m[1]!.trim())
  // Looked up by hash: timing reveals nothing about the secret, only about a hash nobody can steer.
  const record = getTokenByHash(store, given)
  if (!record || !timingSafeEqual(Buffer.from(record.tokenHash, 'hex'), Buffer.from(given, 'hex'))) {
    return {ok: false, code: 'unknown_token', message: `wrong operator token — ${HELP}`}
  }
  if (record.revokedAt !== null) return {ok: false, code: 'token_revoked', message: `token ${record.name} was revoked at ${record.revokedAt} — ask an admin for a new one`}
  if (record.expiresAt !== null && Date.parse(record.expiresAt) <= now.getTime()) {
    return {ok: false, code: 'token_expired', message: `token ${record.name} expired at ${record.expiresAt} — ask an admin for a new one`}
  }
  if (!record.lastUsedAt || now.getTime() - Date.parse(record.lastUsedAt) >= TOUCH_EVERY_MS) touchToken(store, record.name, now.toISOString())
  const scope = record.scope === null ? null : parseSelector(record.scope)
  // A stored scope that no longer parses must not widen the token to the whole fleet.
  if (scope && !scope.ok) return {ok: false, code: 'unknown_token', message: `token ${record.name} has an unreadable scope — ask an admin for a new one`}
  return {ok: true, principal: {name: record.name, role: record.role, scope: scope?.selector ?? null, scopeText: record.scope}}
}

export interface TokenRequest {
  name: string
  role: string
  scope?: string
  expires?: string
}

export function createToken(store: Store, request: TokenRequest, createdBy: string, now: Date): {info: TokenInfo, token: string} {
  if (!NAME.test(request.name)) throw invalid('invalid_name', `token name ${JSON.stringify(request.name)} must be lowercase letters, digits, '.', '_' or '-' (at most 63)`, [{path: 'name', message: 'invalid'}])
  if (!ROLES.includes(request.role as Role)) throw invalid('invalid_role', `role must be one of ${ROLES.join(', ')}`, [{path: 'role', message: `unknown role ${JSON.stringify(request.role)}`}])
  let scope: string | null = null
  if (request.scope !== undefined) {
    const parsed = parseSelector(request.scope)
    if (!parsed.ok) throw invalid('invalid_selector', `scope: ${describeSelectorError(parsed.error)}`, [{path: 'scope', message: parsed.error.message}])
    if (parsed.selector.requirements.length === 0) throw badRequest('an empty scope would be the whole fleet; leave --scope out instead')
    scope = formatSelector(parsed.selector)
  }
  const expiresAt = request.expires === undefined ? null : parseExpiry(request.expires, now).toISOString()
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url')
  const record: TokenRecord = {
    name: request.name, role: request.role as Role, scope, tokenHash: hashToken(token), createdAt: now.toISOString(), createdBy, expiresAt, revokedAt: null, lastUsedAt: null,
  }
  store.transaction(() => {
    if (getToken(store, record.name)) throw conflict(`a token named ${record.name} exists (revoked tokens keep their name) — pick another name`)
    insertToken(store, record)
  })
  return {info: tokenInfo(record), token}
}

export function revokeTokenByName(store: Store, name: string, now: Date): TokenInfo {
  const existing = getToken(store, name)
  if (!existing) throw notFound('token', name, 'run: margo token list')
  revokeToken(store, name, now.toISOString())
  return tokenInfo(getToken(store, name)!)
}

export const listTokenInfos = (store: Store): TokenInfo[] => listTokens(store).map(tokenInfo)
