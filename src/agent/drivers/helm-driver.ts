import {join} from 'node:path'
import type {ApplicationDeployment, DeploymentComponent} from '../../margo/deployment.ts'
import type {DeploymentState} from '../../margo/status.ts'
import type {ComponentResult, Driver, DriverContext} from '../types.ts'
import {findBinary} from './binaries.ts'
import {DriverError, withOutput, type DriverErrorCode} from './errors.ts'
import {runCommand, type CommandResult} from './exec.ts'
import {helmInstallArgs, helmStatusArgs, helmUninstallArgs} from './helm-args.ts'
import {helmValuesYaml} from './helm-values.ts'
import {installInOrder, removeInReverse, statusOfEach} from './sequence.ts'
import {componentDir, ensureDir, onDisk, writeFileAtomic} from './workdir.ts'

export interface HelmDriverOptions {
  /** Namespace for deployments that name none; DEFAULT_HELM_NAMESPACE otherwise. */
  defaultNamespace?: string
  /** PATH searched for `helm` when the context configures no path; the agent's PATH by default. */
  path?: string
  /** Helm's own default when a component sets no timeout. */
  defaultTimeoutSeconds?: number
  /** Extra time helm gets beyond its own `--timeout` before the process is killed. */
  killGraceSeconds?: number
}

export const VALUES_FILE_NAME = 'values.yaml'

/** Helm's messages for its own timeout, for an unreachable cluster and for a missing release. */
const TIMEOUT_OUTPUT = /timed out waiting for the condition|context deadline exceeded|\btimeout\b.*\bexceeded\b/i
const UNREACHABLE_OUTPUT = /kubernetes cluster unreachable|connection refused|no such host|unable to connect to the server/i
const NOT_FOUND_OUTPUT = /release: not found|release not loaded/i

/** The error for a helm run that did not succeed, or undefined when it did. */
export function helmFailure(result: CommandResult, action: 'install' | 'uninstall' | 'status', release: string, timeoutSeconds: number): DriverError | undefined {
  if (result.outcome === 'exited' && result.code === 0) return undefined
  const output = result.stderr.trim() || result.stdout
  switch (result.outcome) {
    case 'not-found':
    case 'spawn-failed':
      return new DriverError('HELM_NOT_FOUND', withOutput('helm could not be started', result.stderr))
    case 'aborted':
      return new DriverError('INTERRUPTED', `helm ${action} of ${release} was interrupted by the agent shutting down`)
    case 'timed-out':
      return new DriverError(action === 'install' ? 'HELM_TIMEOUT' : action === 'uninstall' ? 'HELM_UNINSTALL_FAILED' : 'HELM_STATUS_FAILED', withOutput(`helm ${action} of ${release} did not finish within ${timeoutSeconds}s`, output))
  }
  const code: DriverErrorCode = UNREACHABLE_OUTPUT.test(output)
    ? 'HELM_CLUSTER_UNREACHABLE'
    : action === 'install'
      ? TIMEOUT_OUTPUT.test(output) ? 'HELM_TIMEOUT' : 'HELM_INSTALL_FAILED'
      : action === 'uninstall' ? 'HELM_UNINSTALL_FAILED' : 'HELM_STATUS_FAILED'
  return new DriverError(code, withOutput(`helm ${action} of ${release} failed (exit ${result.code})`, output))
}

/** Helm's release status (`info.status`) as a Margo state. */
export function helmReleaseState(status: string): DeploymentState {
  switch (status) {
    case 'deployed':
    case 'superseded':
      return 'installed'
    case 'pending-install':
    case 'pending-upgrade':
    case 'pending-rollback':
      return 'installing'
    case 'uninstalling':
      return 'removing'
    case 'uninstalled':
      return 'removed'
    default:
      return 'failed'
  }
}

/**
 * Installs each component as a helm release named after it with `helm upgrade --install`, so
 * applying the same deployment again upgrades in place.
 */
export function createHelmDriver(options: HelmDriverOptions = {}): Driver {
  const defaultTimeout = options.defaultTimeoutSeconds ?? 300
  const grace = options.killGraceSeconds ?? 60

  const locate = (ctx: DriverContext): string => {
    const helm = findBinary('helm', ctx.binaries.helm, options.path ?? process.env.PATH)
    if (!helm) {
      throw new DriverError('HELM_NOT_FOUND', ctx.binaries.helm
        ? `the configured helm binary ${ctx.binaries.helm} does not exist or is not executable`
        : 'helm is not installed on this device (not found on PATH); install Helm 3 or configure its path')
    }
    return helm
  }
  const timeoutOf = (c: DeploymentComponent) => c.properties.timeoutSeconds ?? defaultTimeout

  return {
    type: 'helm.v3',

    async apply(deployment: ApplicationDeployment, ctx: DriverContext, onComponent) {
      return installInOrder(deployment.spec.deploymentProfile.components, ctx, onComponent, async component => {
        const helm = locate(ctx)
        const values = helmValuesYaml(deployment, component.name)
        const dir = componentDir(ctx.workDir, component.name)
        const valuesFile = join(dir, VALUES_FILE_NAME)
        await onDisk(`write the values file ${valuesFile}`, async () => {
          await ensureDir(dir)
          await writeFileAtomic(valuesFile, values, 0o600)
        })
        const argv = helmInstallArgs({helm, deployment, component, valuesFile, defaultNamespace: options.defaultNamespace})
        ctx.log.info('helm.install', {deploymentId: deployment.metadata.annotations.id, component: component.name, argv})
        ctx.changingHost?.()
        const result = await runCommand(argv, {cwd: dir, timeoutMs: (timeoutOf(component) + grace) * 1000, signal: ctx.signal})
        const failure = helmFailure(result, 'install', component.name, timeoutOf(component))
        if (failure) throw failure
      })
    },

    async remove(deployment, ctx, onComponent) {
      return removeInReverse(deployment.spec.deploymentProfile.components, ctx, onComponent, async component => {
        const helm = locate(ctx)
        const argv = helmUninstallArgs(helm, deployment, component, options.defaultNamespace)
        ctx.log.info('helm.uninstall', {deploymentId: deployment.metadata.annotations.id, component: component.name, argv})
        const result = await runCommand(argv, {timeoutMs: (timeoutOf(component) + grace) * 1000, signal: ctx.signal})
        // A release that is already gone is what removal wants.
        if (result.outcome === 'exited' && result.code !== 0 && NOT_FOUND_OUTPUT.test(result.stderr)) return
        const failure = helmFailure(result, 'uninstall', component.name, timeoutOf(component))
        if (failure) throw failure
      })
    },

    async status(deployment, ctx) {
      return statusOfEach(deployment.spec.deploymentProfile.components, ctx, async (component): Promise<Omit<ComponentResult, 'name'>> => {
        const helm = locate(ctx)
        const result = await runCommand(helmStatusArgs(helm, deployment, component, options.defaultNamespace), {timeoutMs: 60_000, signal: ctx.signal})
        // No release means the workload is not on the device.
        if (result.outcome === 'exited' && result.code !== 0 && NOT_FOUND_OUTPUT.test(result.stderr)) return {state: 'removed'}
        const failure = helmFailure(result, 'status', component.name, 60)
        if (failure) throw failure
        let status: unknown
        try {
          status = (JSON.parse(result.stdout) as {info?: {status?: unknown}}).info?.status
        } catch {
          throw new DriverError('HELM_STATUS_FAILED', withOutput(`helm status of ${component.name} did not print JSON`, result.stdout))
        }
        const state = helmReleaseState(String(status ?? 'unknown'))
        return state === 'failed'
          ? {state, error: {code: 'HELM_INSTALL_FAILED', message: `helm reports release ${component.name} as ${String(status ?? 'unknown')}`}}
          : {state}
      })
    },
  }
}
