import {checkComponents, parseDeploymentStatus} from '../../margo/status.ts'
import {authenticateClient} from './auth.ts'
import {recordStatusReport} from '../store/status-repo.ts'
import {componentVersions} from './components.ts'
import {bucketsFor} from './rate-limit.ts'
import type {DeviceApiContext} from './context.ts'
import {parseJson, problemResponse} from './http.ts'

/**
 * E8: a deployment status report. Accepted for any deployment ever assigned to this client,
 * including removed ones (their `removing`/`removed` reports arrive after the manifest dropped
 * them). Its components must be those of a version of the deployment the client was given
 * (`checkComponents`). A client sending faster than `statusRate` gets 429 with Retry-After.
 * The report is committed before 200 is sent, so an acknowledged report is never lost.
 */
export async function reportStatus(ctx: DeviceApiContext, request: Request, body: Uint8Array, clientId: string, deploymentId: string): Promise<Response> {
  const auth = await authenticateClient(ctx, request, body, clientId)
  if (!auth.ok) return auth.response
  // Counted per authenticated client, before any work: a flood of reports, valid or not, is
  // turned away without touching the store.
  const retryAfter = bucketsFor(ctx, ctx.config.statusRate).take(clientId, ctx.now().getTime())
  if (retryAfter > 0) {
    ctx.log.warn('deployment.status_throttled', {clientId, deploymentId, retryAfter})
    return problemResponse('too-many-requests', `Too many status reports from this client; retry after ${retryAfter} s.`,
      {retryable: true, retryAfterSeconds: retryAfter, backoffStrategy: 'exponential'}, {'retry-after': String(retryAfter)})
  }
  const json = parseJson(body)
  if (json === undefined) {
    return problemResponse('semantic-error', 'The body is not JSON: send a DeploymentStatusManifest.', {errors: [{field: '', message: 'body is not valid JSON'}]})
  }
  const parsed = parseDeploymentStatus(json)
  if (!parsed.ok) {
    return problemResponse('semantic-error', `Invalid DeploymentStatusManifest: ${parsed.errors.map(e => `${e.field}: ${e.message}`).join('; ')}`, {errors: parsed.errors})
  }
  const report = parsed.value
  if (report.deploymentId !== deploymentId) {
    const errors = [{field: 'deploymentId', message: `must equal the deploymentId in the path (${deploymentId})`}]
    return problemResponse('semantic-error', `deploymentId ${report.deploymentId} in the body does not match the path.`, {errors})
  }
  const deployment = ctx.store.getDeployment(deploymentId)
  if (!deployment || deployment.clientId !== clientId) {
    return problemResponse('deployment-not-found', `Deployment not found: ${deploymentId} was never assigned to this client.`)
  }
  const componentErrors = checkComponents(report, componentVersions(ctx.store, clientId, deploymentId, deployment.digest))
  if (componentErrors.length > 0) {
    return problemResponse('semantic-error', `The report's components do not match deployment ${deploymentId}: ${componentErrors.map(e => `${e.field}: ${e.message}`).join('; ')}`, {errors: componentErrors})
  }
  recordStatusReport(ctx.store, {
    deploymentId,
    clientId,
    state: report.status.state,
    errorJson: report.status.error ? JSON.stringify(report.status.error) : null,
    componentsJson: JSON.stringify(report.components),
    receivedAt: ctx.now().toISOString(),
  }, ctx.config.statusRetention)
  ctx.log.info('deployment.status', {clientId, deploymentId, state: report.status.state})
  ctx.events.emit({type: 'deployment.status', clientId, deploymentId, state: report.status.state})
  return new Response(null, {status: 200})
}
