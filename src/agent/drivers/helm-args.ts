import type {ApplicationDeployment, DeploymentComponent} from '../../margo/deployment.ts'
import {DriverError} from './errors.ts'

/**
 * The namespace used when a deployment names none (the conformance fixtures omit it). One fixed,
 * dedicated namespace keeps Margo workloads apart from whatever else runs on the cluster, and
 * `--create-namespace` makes it exist on first use.
 */
export const DEFAULT_HELM_NAMESPACE = 'margo'

/** Helm's own limit for release names (they become label values with suffixes). */
const RELEASE_NAME_MAX = 53
const RELEASE_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

export function helmNamespace(deployment: ApplicationDeployment, fallback = DEFAULT_HELM_NAMESPACE): string {
  return deployment.metadata.namespace ?? fallback
}

/** The release name is the component name, so one chart per component per namespace. */
export function releaseName(component: DeploymentComponent): string {
  const name = component.name
  if (name.length > RELEASE_NAME_MAX || !RELEASE_NAME_PATTERN.test(name)) {
    throw new DriverError('HELM_RELEASE_NAME_INVALID', `component name ${JSON.stringify(name)} cannot be a Helm release name: at most ${RELEASE_NAME_MAX} lowercase letters, digits and '-', starting and ending with a letter or digit`)
  }
  return name
}

/** Where helm finds the chart, as the tail of an `upgrade --install` command line. */
export type ChartSource =
  /** `oci://registry/path/chart` with `--version`. */
  | {kind: 'oci', ref: string}
  /** A packaged chart at an https URL (`.tgz`): helm downloads it as is and ignores `--version`. */
  | {kind: 'archive', url: string}
  /** An https chart repository (the URL serving `index.yaml`); the chart in it is named after the component. */
  | {kind: 'repository', repo: string, chart: string}

/**
 * Maps `properties.repository` onto helm's CLI. `oci://` is a chart reference; an https URL ending
 * in `.tgz`/`.tar.gz` is a packaged chart; any other https URL is a chart repository in which the
 * chart carries the component's name (the spec uses the component name as the chart name).
 * Plain http and local paths are refused: charts are code that runs on the cluster.
 */
export function chartSource(component: DeploymentComponent): ChartSource {
  const repository = component.properties.repository?.trim()
  if (!repository) throw new DriverError('HELM_REPOSITORY_INVALID', `component ${component.name} has no repository`)
  let url: URL
  try {
    url = new URL(repository)
  } catch {
    throw new DriverError('HELM_REPOSITORY_INVALID', `component ${component.name}: repository ${JSON.stringify(repository)} is not a URL; use oci://… or https://…`)
  }
  if (url.protocol === 'oci:') return {kind: 'oci', ref: repository}
  if (url.protocol === 'https:') {
    if (/\.(tgz|tar\.gz)$/i.test(url.pathname)) return {kind: 'archive', url: repository}
    return {kind: 'repository', repo: repository, chart: component.name}
  }
  throw new DriverError('HELM_REPOSITORY_INVALID', `component ${component.name}: repository ${JSON.stringify(repository)} must use oci:// or https://, not ${url.protocol}`)
}

export interface HelmInstallInput {
  helm: string
  deployment: ApplicationDeployment
  component: DeploymentComponent
  valuesFile: string
  defaultNamespace?: string
}

/**
 * `helm upgrade --install` for one component. `--reset-values` because helm otherwise reuses the
 * previous release's values when the values file is empty, and a deployment that dropped its
 * parameters must get the chart defaults back.
 */
export function helmInstallArgs(input: HelmInstallInput): string[] {
  const {component} = input
  const release = releaseName(component)
  const source = chartSource(component)
  const argv = [input.helm, 'upgrade', '--install', release]
  switch (source.kind) {
    case 'oci':
      argv.push(source.ref, ...versionArgs(component))
      break
    case 'archive':
      argv.push(source.url)
      break
    case 'repository':
      argv.push(source.chart, '--repo', source.repo, ...versionArgs(component))
      break
  }
  argv.push('--namespace', helmNamespace(input.deployment, input.defaultNamespace), '--create-namespace', '--reset-values', '-f', input.valuesFile)
  if (component.properties.wait) argv.push('--wait')
  if (component.properties.timeout) argv.push('--timeout', helmDuration(component))
  return argv
}

function versionArgs(component: DeploymentComponent): string[] {
  const revision = component.properties.revision?.trim()
  return revision ? ['--version', revision] : []
}

/** Helm wants a Go duration; the deployment allows the same forms (`8m30s`, `1h`, `90s`). */
function helmDuration(component: DeploymentComponent): string {
  const {timeout, timeoutSeconds} = component.properties
  if (timeout && /^(\d+h)?(\d+m)?(\d+(\.\d+)?s)?$/.test(timeout)) return timeout
  return `${timeoutSeconds ?? 300}s`
}

export function helmUninstallArgs(helm: string, deployment: ApplicationDeployment, component: DeploymentComponent, defaultNamespace?: string): string[] {
  const argv = [helm, 'uninstall', releaseName(component), '--namespace', helmNamespace(deployment, defaultNamespace)]
  if (component.properties.wait) argv.push('--wait')
  if (component.properties.timeout) argv.push('--timeout', helmDuration(component))
  return argv
}

export function helmStatusArgs(helm: string, deployment: ApplicationDeployment, component: DeploymentComponent, defaultNamespace?: string): string[] {
  return [helm, 'status', releaseName(component), '--namespace', helmNamespace(deployment, defaultNamespace), '-o', 'json']
}
