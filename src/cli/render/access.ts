import type {AuditEntry, AuditVerification, CreatedToken, TokenInfo} from '../../operator-contract/views.ts'
import {type OutputContext, fields, formatTime, table} from '../output.ts'

function state(t: TokenInfo, now: Date): string {
  if (t.revokedAt) return 'revoked'
  if (t.expiresAt && Date.parse(t.expiresAt) <= now.getTime()) return 'expired'
  return 'active'
}

export function renderTokenList(tokens: TokenInfo[], ctx: OutputContext): string {
  return table(['name', 'role', 'scope', 'state', 'expires', 'last used'], tokens.map(t => [
    t.name, t.role, t.scope ?? '(fleet)', state(t, ctx.now), t.expiresAt ? formatTime(t.expiresAt, ctx) : 'never', formatTime(t.lastUsedAt, ctx),
  ]), ctx)
}

/** The secret once, and how to use it; piped, only the token so `$(margo token create …)` works. */
export function renderCreatedToken(t: CreatedToken, ctx: OutputContext): string {
  if (!ctx.tty) return t.token
  return [
    fields([
      {label: 'name', key: 'name', value: t.name},
      {label: 'role', key: 'role', value: t.role},
      {label: 'scope', key: 'scope', value: t.scope ?? '(whole fleet)'},
      {label: 'expires', key: 'expiresAt', value: t.expiresAt ?? 'never'},
    ], ctx),
    '',
    t.token,
    '',
    'This token is shown once; the server keeps only its hash. Use it with: margo login --server URL --token TOKEN',
  ].join('\n')
}

export function renderRevokedToken(t: TokenInfo, ctx: OutputContext): string {
  return ctx.tty ? `revoked token ${t.name}` : t.name
}

export function renderAuditList(entries: AuditEntry[], ctx: OutputContext): string {
  return table(['seq', 'time', 'actor', 'action', 'target', 'request'], entries.map(e => [
    String(e.seq), ctx.tty ? e.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : e.at, e.actor, e.action, e.target, e.requestId ?? '-',
  ]), ctx)
}

export function renderAuditVerification(v: AuditVerification): string {
  return v.ok
    ? `audit log intact: ${v.entries} entr${v.entries === 1 ? 'y' : 'ies'}${v.head ? `, head ${v.head}` : ''}`
    : `audit log broken at entry ${v.brokenAt}: ${v.reason}`
}
