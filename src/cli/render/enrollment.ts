import type {CreatedJoinToken, Device, JoinTokenInfo} from '../../operator-contract/views.ts'
import {type OutputContext, fields, formatTime, keyValues, table} from '../output.ts'

/**
 * After approving: each device with its certificate fingerprint, which the operator compares
 * with the one `margo agent status` prints on the device. Piped: `clientId<TAB>enrollment`.
 */
export function renderApprovals(devices: readonly Device[], ctx: OutputContext): string {
  if (!ctx.tty) return devices.map(d => `${d.clientId}\t${d.enrollment}`).join('\n')
  if (devices.length === 0) return 'no pending device to approve'
  const lines = devices.map(d => `approved ${d.clientId}  certificate ${d.certificate.fingerprint}${Object.keys(d.labels).length ? `  labels ${keyValues(d.labels, ',')}` : ''}`)
  lines.push('', 'Compare each certificate fingerprint with the one `margo agent status` prints on the device; revoke a device that does not match: margo device revoke <clientId>')
  return lines.join('\n')
}

function state(t: JoinTokenInfo, now: Date): string {
  if (t.revokedAt) return 'revoked'
  if (Date.parse(t.expiresAt) <= now.getTime()) return 'expired'
  if (t.uses >= t.maxUses) return 'used up'
  return 'active'
}

export function renderJoinTokenList(tokens: readonly JoinTokenInfo[], ctx: OutputContext): string {
  if (tokens.length === 0) return ctx.tty ? 'no join tokens — create one: margo device join-token create --labels site=plant-7' : ''
  return table(['id', 'state', 'uses', 'labels', 'scope', 'expires', 'created by', 'last used'], tokens.map(t => [
    t.id, state(t, ctx.now), `${t.uses}/${t.maxUses}`, keyValues(t.labels, ','), t.scope ?? '', formatTime(t.expiresAt, ctx), t.createdBy, formatTime(t.lastUsedAt, ctx),
  ]), ctx)
}

/** The secret once, and how a device uses it; piped, only the token so `$(margo device join-token create …)` works. */
export function renderCreatedJoinToken(t: CreatedJoinToken, ctx: OutputContext): string {
  if (!ctx.tty) return t.token
  return [
    fields([
      {label: 'id', key: 'id', value: t.id},
      {label: 'labels', key: 'labels', value: keyValues(t.labels) || '(none)'},
      {label: 'scope', key: 'scope', value: t.scope ?? '(none)'},
      {label: 'uses', key: 'maxUses', value: `${t.maxUses} device${t.maxUses === 1 ? '' : 's'}`},
      {label: 'expires', key: 'expiresAt', value: t.expiresAt},
    ], ctx),
    '',
    t.token,
    '',
    'This token is shown once; the server keeps only its hash. On the device:',
    '  MARGO_JOIN_TOKEN=<token> margo agent --server URL --ca-fingerprint sha256:…',
  ].join('\n')
}

export function renderRevokedJoinToken(t: JoinTokenInfo, ctx: OutputContext): string {
  return ctx.tty ? `revoked join token ${t.id} (it admitted ${t.uses} of ${t.maxUses})` : t.id
}

/**
 * What the operator reads before pasting the line (on stderr, so stdout stays the line alone).
 * The line carries the join token, so it says how to treat it.
 */
export function renderEnrollNotice(r: {deviceUrl: string, caFingerprint: string, vouch: string, joinToken: JoinTokenInfo | null}): string {
  const lines: string[] = []
  if (r.joinToken) {
    const t = r.joinToken
    const admits = t.maxUses === 1 ? 'one device' : `${t.maxUses} devices`
    lines.push(`Paste on the device as root (labels: ${keyValues(t.labels, ',') || 'none'}; admits ${admits} until ${t.expiresAt}; CA ${r.caFingerprint}).`)
    lines.push(`The line holds join token ${t.id}: keep it secret until it is used; margo device join-token revoke ${t.id} withdraws it.`)
  } else if (r.vouch === 'given-join-token') {
    lines.push(`Paste on the device as root (CA ${r.caFingerprint}). The line holds the join token you gave: keep it secret until it is used.`)
  } else {
    lines.push(`Paste on the device as root (CA ${r.caFingerprint}). The line vouches for no device: the device waits for margo device approve.`)
  }
  const host = new URL(r.deviceUrl).hostname
  if (host === 'localhost' || host.startsWith('127.') || host === '[::1]') {
    lines.push(`warning: ${r.deviceUrl} is this machine's loopback address; pass --device-url with an address devices can reach`)
  }
  return `${lines.join('\n')}\n`
}
