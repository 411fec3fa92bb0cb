import {describe, expect, test} from 'bun:test'
import {DriverError} from '../../../src/agent/drivers/errors.ts'
import {chartSource, DEFAULT_HELM_NAMESPACE, helmInstallArgs, helmStatusArgs, helmUninstallArgs} from '../../../src/agent/drivers/helm-args.ts'
import {DEPLOYMENT_ID, deployment, parseYamlDeployment} from './helpers.ts'

const oci = {repository: 'oci://quay.io/charts/realtime-database-services', revision: '2.3.7'}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    return e instanceof DriverError ? e.code : 'not a DriverError'
  }
  return undefined
}

describe('helm command lines', () => {
  test('A35: upgrade --install with release = component name, namespace from metadata, created if absent', () => {
    const d = deployment('helm.v3', [{name: 'database-services', properties: {...oci, timeout: '8m30s'}}])
    expect(helmInstallArgs({helm: '/bin/helm', deployment: d, component: d.spec.deploymentProfile.components[0]!, valuesFile: '/w/database-services/values.yaml'})).toEqual([
      '/bin/helm', 'upgrade', '--install', 'database-services', 'oci://quay.io/charts/realtime-database-services',
      '--version', '2.3.7', '--namespace', 'margo-poc', '--create-namespace', '--reset-values',
      '-f', '/w/database-services/values.yaml', '--wait', '--timeout', '8m30s',
    ])
  })

  test('CL-25: wait defaults to true; wait: false drops --wait; no timeout means no --timeout', () => {
    const d = deployment('helm.v3', [{name: 'a', properties: oci}, {name: 'b', properties: {...oci, wait: false}}])
    const [a, b] = d.spec.deploymentProfile.components
    expect(helmInstallArgs({helm: 'helm', deployment: d, component: a!, valuesFile: 'v'})).toContain('--wait')
    const argsB = helmInstallArgs({helm: 'helm', deployment: d, component: b!, valuesFile: 'v'})
    expect(argsB).not.toContain('--wait')
    expect(argsB).not.toContain('--timeout')
  })

  test('CL-25: a numeric timeout becomes seconds; revision text is kept as written (1.10 stays 1.10)', () => {
    const d = parseYamlDeployment(`
apiVersion: application.margo.org/v1alpha1
kind: ApplicationDeployment
metadata: {name: x, namespace: margo-poc, annotations: {id: ${DEPLOYMENT_ID}}}
spec:
  deploymentProfile:
    type: helm.v3
    components:
      - name: a
        properties: {repository: oci://r/a, revision: 1.10, timeout: 90}
`)
    const args = helmInstallArgs({helm: 'helm', deployment: d, component: d.spec.deploymentProfile.components[0]!, valuesFile: 'v'})
    expect(args.slice(args.indexOf('--version'), args.indexOf('--version') + 2)).toEqual(['--version', '1.10'])
    expect(args.slice(-2)).toEqual(['--timeout', '90s'])
  })

  test('a deployment without a namespace uses the documented default', () => {
    const d = deployment('helm.v3', [{name: 'a', properties: oci}], undefined, null)
    expect(DEFAULT_HELM_NAMESPACE).toBe('margo')
    expect(helmStatusArgs('helm', d, d.spec.deploymentProfile.components[0]!)).toEqual(['helm', 'status', 'a', '--namespace', 'margo', '-o', 'json'])
    expect(helmStatusArgs('helm', d, d.spec.deploymentProfile.components[0]!, 'edge')).toContain('edge')
  })

  test('an https chart repository becomes --repo <url> <component name>; an https .tgz is fetched directly', () => {
    const d = deployment('helm.v3', [
      {name: 'nginx', properties: {repository: 'https://charts.example.com/stable', revision: '15.0.1'}},
      {name: 'web', properties: {repository: 'https://charts.example.com/web-1.2.3.tgz', revision: '1.2.3', wait: false}},
    ])
    const [nginx, web] = d.spec.deploymentProfile.components
    expect(helmInstallArgs({helm: 'helm', deployment: d, component: nginx!, valuesFile: 'v'})).toEqual([
      'helm', 'upgrade', '--install', 'nginx', 'nginx', '--repo', 'https://charts.example.com/stable', '--version', '15.0.1',
      '--namespace', 'margo-poc', '--create-namespace', '--reset-values', '-f', 'v', '--wait',
    ])
    expect(helmInstallArgs({helm: 'helm', deployment: d, component: web!, valuesFile: 'v'})).toEqual([
      'helm', 'upgrade', '--install', 'web', 'https://charts.example.com/web-1.2.3.tgz',
      '--namespace', 'margo-poc', '--create-namespace', '--reset-values', '-f', 'v',
    ])
  })

  test('plain http, local paths and repo aliases are refused with HELM_REPOSITORY_INVALID', () => {
    for (const repository of ['http://charts.example.com/x', 'bitnami/nginx', '/charts/x.tgz', 'file:///x.tgz']) {
      const d = deployment('helm.v3', [{name: 'a', properties: {repository, revision: '1'}}])
      expect(codeOf(() => chartSource(d.spec.deploymentProfile.components[0]!))).toBe('HELM_REPOSITORY_INVALID')
    }
  })

  test('component names helm cannot use as release names are refused before running helm', () => {
    for (const name of ['-lead', 'trail-', 'x'.repeat(54)]) {
      const d = deployment('helm.v3', [{name, properties: oci}])
      expect(codeOf(() => helmStatusArgs('helm', d, d.spec.deploymentProfile.components[0]!))).toBe('HELM_RELEASE_NAME_INVALID')
    }
  })

  test('uninstall names the release and namespace, waits unless wait is false', () => {
    const d = deployment('helm.v3', [{name: 'a', properties: {...oci, timeout: '2m'}}, {name: 'b', properties: {...oci, wait: false}}])
    const [a, b] = d.spec.deploymentProfile.components
    expect(helmUninstallArgs('helm', d, a!)).toEqual(['helm', 'uninstall', 'a', '--namespace', 'margo-poc', '--wait', '--timeout', '2m'])
    expect(helmUninstallArgs('helm', d, b!)).toEqual(['helm', 'uninstall', 'b', '--namespace', 'margo-poc'])
  })
})
