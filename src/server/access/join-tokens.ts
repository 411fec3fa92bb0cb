/**
 * Join tokens: a device presents one, with the fingerprint of the certificate it is about to
 * onboard with, to be admitted without an operator's approval. The token never travels on the
 * Margo device interface; it preauthorises exactly that fingerprint, and the following
 * onboarding is then accepted as active, with the token's labels.
 *
 * Stored as SHA-256 like operator tokens (./tokens.ts says why a fast hash is right for 256
 * random bits). Each token expires, and admits at most `maxUses` distinct certificates.
 */
import {randomBytes, timingSafeEqual} from 'node:crypto'
import type {CreatedJoinToken, JoinResult, JoinTokenInfo} from '../../operator-contract/views.ts'
import {labelMapProblems, sortLabels} from '../../operator-contract/labels.ts'
import {describeSelectorError, formatSelector, matchesSelector, parseSelector, type Selector} from '../../operator-contract/selector.ts'
import {appendAudit} from '../audit/service.ts'
import {badRequest, invalid, notFound} from '../domain-errors.ts'
import {countJoinTokenUse, getJoinToken, getJoinTokenByHash, insertJoinToken, listJoinTokens, revokeJoinToken, type JoinTokenRecord} from '../store/join-tokens-repo.ts'
import type {Store} from '../store/store.ts'
import {selectorWithinScope} from './scope.ts'
import {hashToken, parseExpiry, type Principal} from './tokens.ts'

const TOKEN_PREFIX = 'margo-join_'
const FINGERPRINT = /^sha256:[0-9a-f]{64}$/
export const DEFAULT_JOIN_TOKEN_EXPIRY = '24h'
const MAX_USES = 100_000

export const joinTokenInfo = ({tokenHash: _, ...info}: JoinTokenRecord): JoinTokenInfo => info

export interface JoinTokenRequest {
  labels?: Record<string, unknown>
  uses?: unknown
  expires?: string
  scope?: string
}

function parseScopeText(text: string): Selector {
  const parsed = parseSelector(text)
  if (!parsed.ok) throw invalid('invalid_selector', `scope: ${describeSelectorError(parsed.error)}`, [{path: 'scope', message: parsed.error.message}])
  if (parsed.selector.requirements.length === 0) throw badRequest('an empty scope bounds nothing; leave --scope out instead')
  return parsed.selector
}

/**
 * A new join token. A scoped creator can only admit devices it could see afterwards: the token's
 * labels must match the creator's scope, and the token's own scope must lie inside it (it
 * defaults to the creator's).
 */
export function createJoinToken(store: Store, request: JoinTokenRequest, creator: Principal, now: Date): CreatedJoinToken {
  const problems = labelMapProblems(request.labels ?? {}, {allowNull: false})
  if (problems.length > 0) throw invalid('invalid_labels', `labels: ${problems.map(p => `${p.path}: ${p.message}`).join('; ')}`, problems)
  const labels = sortLabels((request.labels ?? {}) as Record<string, string>)
  const uses = request.uses ?? 1
  if (typeof uses !== 'number' || !Number.isInteger(uses) || uses < 1 || uses > MAX_USES) {
    throw invalid('invalid_uses', `uses must be a whole number from 1 to ${MAX_USES}: how many devices the token may admit`, [{path: 'uses', message: 'out of range'}])
  }
  const scope = request.scope === undefined ? creator.scope : parseScopeText(request.scope)
  if (creator.scope && request.scope !== undefined) {
    const within = selectorWithinScope(scope!, creator.scope)
    if (!within.ok) throw invalid('outside_scope', `the join token's scope must stay inside token ${creator.name}'s scope ${JSON.stringify(creator.scopeText)}: it lacks ${within.missing.join(', ')}`, within.missing.map(m => ({path: 'scope', message: m})))
  }
  if (scope && !matchesSelector(scope, labels)) {
    throw invalid('labels_outside_scope', `labels ${JSON.stringify(labels)} do not match the scope ${formatSelector(scope)}: a device admitted with them would fall outside it`, [{path: 'labels', message: 'outside the scope'}])
  }
  if (creator.scope && !matchesSelector(creator.scope, labels)) {
    throw invalid('labels_outside_scope', `labels ${JSON.stringify(labels)} do not match token ${creator.name}'s scope ${JSON.stringify(creator.scopeText)}`, [{path: 'labels', message: 'outside the scope'}])
  }
  const expiresAt = parseExpiry(request.expires ?? DEFAULT_JOIN_TOKEN_EXPIRY, now).toISOString()
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url')
  const record: JoinTokenRecord = {
    id: `jt-${randomBytes(5).toString('hex')}`, tokenHash: hashToken(token), labels, scope: scope ? formatSelector(scope) : null, maxUses: uses, uses: 0,
    createdAt: now.toISOString(), createdBy: creator.name, expiresAt, revokedAt: null, lastUsedAt: null,
  }
  insertJoinToken(store, record)
  return {...joinTokenInfo(record), token}
}

export const listJoinTokenInfos = (store: Store): JoinTokenInfo[] => listJoinTokens(store).map(joinTokenInfo)

export function revokeJoinTokenById(store: Store, id: string, now: Date): JoinTokenInfo {
  if (!getJoinToken(store, id)) throw notFound('join_token', id, 'run: margo device join-token list')
  revokeJoinToken(store, id, now.toISOString())
  return joinTokenInfo(getJoinToken(store, id)!)
}

export type JoinRefusalCode =
  | 'join_token_unknown' | 'join_token_expired' | 'join_token_revoked' | 'join_token_used_up'
  | 'certificate_denied' | 'device_revoked' | 'labels_outside_scope' | 'already_active'

/** Why a join was refused: each code has its status and a message a person can act on. */
export class JoinRefused extends Error {
  constructor(readonly status: 401 | 403 | 409, readonly code: JoinRefusalCode, message: string, readonly tokenId: string | null = null) {
    super(message)
  }
}

const ASK = 'ask an operator for a new one (margo device join-token create)'

/**
 * Redeems a join token for one certificate fingerprint, atomically: checks the token, counts a
 * use, records the preauthorisation with the token's labels, and approves a device with that
 * certificate already waiting in pending. Presenting the same token for the same fingerprint
 * again changes nothing and counts no use, so a device that lost the answer can retry.
 */
export function redeemJoinToken(store: Store, request: {token: string, fingerprint: string}, now: Date, requestId?: string): JoinResult {
  const fingerprint = request.fingerprint.trim().toLowerCase()
  if (!FINGERPRINT.test(fingerprint)) throw badRequest('fingerprint must be sha256:<64 hex digits> of the DER of the certificate the device onboards with')
  const given = hashToken(request.token.trim())
  const outcome = store.transaction((): JoinResult | JoinRefused => {
    const record = getJoinTokenByHash(store, given)
    if (!record || !timingSafeEqual(Buffer.from(record.tokenHash, 'hex'), Buffer.from(given, 'hex'))) {
      return new JoinRefused(401, 'join_token_unknown', `the fleet manager does not know this join token — check that it was copied whole, or ${ASK}`)
    }
    const refuse = (status: 401 | 403 | 409, code: JoinRefusalCode, message: string) => new JoinRefused(status, code, message, record.id)
    const previous = store.getPreregistration(fingerprint)
    const existing = store.getClientByFingerprint(fingerprint)
    if (previous?.joinToken === record.id && existing?.enrollment !== 'revoked') {
      return {fingerprint, joinTokenId: record.id, labels: record.labels, approvedClientId: null, repeated: true}
    }
    if (record.revokedAt !== null) return refuse(401, 'join_token_revoked', `join token ${record.id} was revoked at ${record.revokedAt} — ${ASK}`)
    if (Date.parse(record.expiresAt) <= now.getTime()) return refuse(401, 'join_token_expired', `join token ${record.id} expired at ${record.expiresAt} — ${ASK}`)
    if (record.uses >= record.maxUses) return refuse(403, 'join_token_used_up', `join token ${record.id} has admitted ${record.uses} of ${record.maxUses} device${record.maxUses === 1 ? '' : 's'} and admits no more — ${ASK}`)
    if (store.isDenied(fingerprint)) return refuse(403, 'certificate_denied', 'this certificate is on the deny-list; a join token cannot admit it')
    if (existing?.enrollment === 'revoked') return refuse(403, 'device_revoked', `device ${existing.clientId} with this certificate is revoked; a join token cannot readmit it`)
    if (existing?.enrollment === 'active') return refuse(409, 'already_active', `device ${existing.clientId} with this certificate is already active; nothing to preauthorise`)
    const labels = existing ? {...existing.labels, ...record.labels} : record.labels
    const scope = record.scope === null ? null : parseSelector(record.scope)
    if (scope && (!scope.ok || !matchesSelector(scope.selector, labels))) {
      return refuse(403, 'labels_outside_scope', `device ${existing?.clientId} has labels outside join token ${record.id}'s scope ${record.scope}`)
    }
    const at = now.toISOString()
    countJoinTokenUse(store, record.id, at)
    store.addJoinGrant(fingerprint, {labels: record.labels, joinToken: record.id}, at)
    if (existing) {
      store.setLabels(existing.clientId, sortLabels(labels))
      store.setEnrollment(existing.clientId, 'active')
    }
    appendAudit(store, {
      actor: `join-token:${record.id}`, action: 'join_token.used', target: `certificate:${fingerprint}`,
      summary: {fingerprint, labels: record.labels, use: record.uses + 1, maxUses: record.maxUses, approvedClientId: existing?.clientId ?? null}, requestId,
    }, now)
    return {fingerprint, joinTokenId: record.id, labels: record.labels, approvedClientId: existing?.clientId ?? null, repeated: false}
  })
  if (!(outcome instanceof JoinRefused)) return outcome
  // A refused known token is worth an entry: someone holds it and tried.
  if (outcome.tokenId) appendAudit(store, {actor: `join-token:${outcome.tokenId}`, action: 'join_token.refused', target: `certificate:${fingerprint}`, summary: {fingerprint, reason: outcome.code}, requestId}, now)
  throw outcome
}
