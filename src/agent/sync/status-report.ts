import {aggregateState, STATUS_KIND, type ComponentStatus, type DeploymentStatusManifest} from '../../margo/status.ts'
import type {ComponentResult, ReportedError} from '../types.ts'

export const STATUS_API_VERSION = 'deployment.margo.org/v1alpha1'

/** Used when something failed without saying why, because a failed report must carry a code and message (CL-32). */
export const UNSPECIFIED_FAILURE: ReportedError = {code: 'FAILED', message: 'the deployment failed without further detail'}

/** An error with a blank code says nothing; the spec's examples send such objects even while pending (A27). */
function usable(e: ReportedError | undefined): e is ReportedError {
  return e !== undefined && e.code.trim() !== ''
}

/**
 * The DeploymentStatusManifest for one deployment: one entry per component (CL-29), the
 * overall state as the most severe component state (CL-31, A8), and `error` only on failure
 * (CL-32, A27), taken from the first failed component.
 *
 * `deploymentError` is for failures that belong to no component (an unusable YAML, an
 * unsupported profile): it makes the overall state `failed` even when the components are not.
 */
export function buildStatusReport(deploymentId: string, components: readonly ComponentResult[], deploymentError?: ReportedError): DeploymentStatusManifest {
  const entries: ComponentStatus[] = components.map(c =>
    c.state === 'failed' && usable(c.error) ? {name: c.name, state: c.state, error: {code: c.error.code, message: c.error.message}} : {name: c.name, state: c.state})
  const state = usable(deploymentError) ? 'failed' : aggregateState(components.map(c => c.state))
  const firstError = components.find(c => c.state === 'failed' && usable(c.error))?.error
  const error = (usable(deploymentError) ? deploymentError : undefined) ?? firstError ?? UNSPECIFIED_FAILURE
  return {
    apiVersion: STATUS_API_VERSION,
    kind: STATUS_KIND,
    deploymentId,
    status: state === 'failed' ? {state, error: {code: error.code, message: error.message}} : {state},
    components: entries,
  }
}
