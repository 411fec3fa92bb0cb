import type {Deployment} from '../../operator-contract/views.ts'
import type {LoginResult} from '../../client/login.ts'
import type {OutputContext} from '../output.ts'
import {blocks, fields} from '../output.ts'
import {deploymentFields} from './deployments.ts'

export function renderDeployResult(d: Deployment, ctx: OutputContext): string {
  if (!ctx.tty) return fields(deploymentFields(d, ctx), ctx)
  return blocks(
    [
      `deployment ${d.deploymentId} created: ${d.appId}@${d.appVersion} (${d.profile.type}) on device ${d.clientId}`,
      fields(deploymentFields(d, ctx), ctx),
      `follow it with: margo status --device ${d.clientId}`,
    ],
    ctx,
  )
}

export function renderUndeployResult(d: Deployment, ctx: OutputContext): string {
  if (!ctx.tty) return `${d.deploymentId}\t${d.desired}`
  return `deployment ${d.deploymentId} (${d.appId}@${d.appVersion}) will be removed from device ${d.clientId} — follow it with: margo status --device ${d.clientId}`
}

export function renderLoginResult(r: LoginResult, ctx: OutputContext): string {
  if (!ctx.tty) return `${r.server}\t${r.configPath}`
  const checked = r.verified ? `logged in to ${r.server}${r.serverVersion ? ` (margo ${r.serverVersion})` : ''}` : `saved ${r.server} without contacting it`
  return `${checked}; settings saved to ${r.configPath}`
}
