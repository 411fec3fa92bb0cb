import type {SecretChange, SecretInfo} from '../../operator-contract/views.ts'
import {type OutputContext, formatTime, table} from '../output.ts'

const uses = (s: SecretInfo) => [...s.usedBy.rollouts.map(r => `rollout ${r}`), ...(s.usedBy.deployments.length ? [`${s.usedBy.deployments.length} deployment(s)`] : [])].join(', ')

export function renderSecretList(secrets: SecretInfo[], ctx: OutputContext): string {
  if (secrets.length === 0) return ctx.tty ? 'no secrets yet — create one with: margo secret set NAME --value - (reads the value from standard input)' : ''
  return table(['name', 'updated', 'by', 'used by'], secrets.map(s => [s.name, formatTime(s.updatedAt, ctx), s.updatedBy, uses(s) || '-']), ctx)
}

export function renderSecretChange(s: SecretChange, ctx: OutputContext): string {
  if (!ctx.tty) return `${s.name}\t${s.created ? 'created' : 'rotated'}\t${s.rerendered.length}`
  const head = s.created ? `created secret ${s.name} — refer to it in values as \${secret:${s.name}}` : `rotated secret ${s.name}`
  if (s.rerendered.length === 0) return head
  return `${head}; ${s.rerendered.length} deployment(s) re-rendered, their devices update in place:\n${s.rerendered.map(r => `  ${r.deploymentId} on ${r.clientId}`).join('\n')}`
}

export const renderSecretDeleted = (r: {name: string}, ctx: OutputContext) => (ctx.tty ? `deleted secret ${r.name}` : r.name)
