/** Documents quoted from the spec and the conformance suites, shared by the vocabulary tests. */

/** Spec §4.1: the canonical G1 capabilities payload. */
export const G1_CAPABILITIES = {
  apiVersion: 'device.margo.org/v1alpha1',
  kind: 'DeviceCapabilitiesManifest',
  properties: {
    id: 'northstarida.xtapro.k8s.edge',
    vendor: 'Northstar Industrial Devices',
    modelNumber: '332ANZE1-N1',
    serialNumber: 'PF45343-AA',
    roles: ['Standalone Device'],
    resources: {
      cpu: {cores: 4, architecture: 'arm64'},
      memory: '8Gi',
      storage: '64Gi',
      peripherals: [{type: 'gpu', manufacturer: 'NVIDIA'}],
      interfaces: [{type: 'ethernet'}, {type: 'wifi'}],
    },
  },
}

/** The body every capability step of the curated WFM core suite sends (G1.5 shape). */
export const G15_CAPABILITIES = {
  apiVersion: 'device.margo.org/v1alpha1',
  kind: 'DeviceCapabilitiesManifest',
  properties: {
    id: 'client-123',
    vendor: 'Acme Corp',
    modelNumber: 'ACM-XYZ',
    serialNumber: 'SN-12345',
    cpus: [{cores: 4, architecture: 'arm64'}],
    memory: '16Gi',
    storage: '256Gi',
    peripherals: [],
    interfaces: [{type: 'ethernet'}],
    otelCollector: false,
    supportedRuntimes: ['oci'],
    supportedDeploymentTypes: ['helm', 'compose'],
  },
}

/** Device-supplier step 2.1: the 1.0.0 body the mock WFM must accept. */
export const SUPPLIER_CAPABILITIES = {
  apiVersion: 'device.margo.org/v1alpha1',
  kind: 'DeviceCapabilitiesManifest',
  properties: {
    id: 'device-001',
    vendor: 'Acme Corp',
    modelNumber: 'ACM-XYZ',
    serialNumber: 'SN-12345',
    roles: ['Standalone Device'],
    resources: {cpu: {cores: 4, architecture: 'arm64'}, memory: '16Gi', storage: '256Gi', interfaces: [{type: 'ethernet'}], peripherals: [{type: 'camera'}]},
  },
}

/** Spec §4.2 example status. */
export const STATUS_EXAMPLE = {
  apiVersion: 'deployment.margo.org/v1alpha1',
  kind: 'DeploymentStatusManifest',
  deploymentId: 'a3e2f5dc-912e-494f-8395-52cf3769bc06',
  status: {state: 'failed', error: {code: 'HELM_TIMEOUT', message: 'digitron-orchestrator not ready after 8m30s'}},
  components: [
    {name: 'database-services', state: 'installed'},
    {name: 'digitron-orchestrator', state: 'failed', error: {code: 'HELM_TIMEOUT', message: 'timed out'}},
  ],
}

/** Spec §3.1 Helm example. */
export const HELM_DEPLOYMENT = `apiVersion: application.margo.org/v1alpha1
kind: ApplicationDeployment
metadata:
  annotations:
    id: a3e2f5dc-912e-494f-8395-52cf3769bc06
    applicationId: com-northstartida-digitron-orchestrator
  name: com-northstartida-digitron-orchestrator-deployment
  namespace: margo-poc
spec:
  deploymentProfile:
    type: helm.v3
    components:
      - name: database-services
        properties: {repository: "oci://quay.io/charts/realtime-database-services", revision: 2.3.7, timeout: 8m30s, wait: true}
      - name: digitron-orchestrator
        properties: {repository: "oci://northstarida.azurecr.io/charts/northstarida-digitron-orchestrator", revision: 1.0.9, wait: true}
  parameters:
    pollFrequency:
      value: 120
      targets:
        - pointer: settings.pollFrequency
          components: [digitron-orchestrator, database-services]
`

/** Spec §3.1 Compose example. */
export const COMPOSE_DEPLOYMENT = `apiVersion: application.margo.org/v1alpha1
kind: ApplicationDeployment
metadata:
  annotations:
    id: ad9b614e-8912-45f4-a523-372358765def
    applicationId: com-northstartida-digitron-orchestrator
  name: com-northstartida-digitron-orchestrator-deployment
  namespace: margo-poc
spec:
  deploymentProfile:
    type: compose
    components:
      - name: digitron-orchestrator-docker
        properties:
          packageLocation: https://northsitarida.com/digitron/docker/digitron-orchestrator.tar.gz
          keyLocation: https://northsitarida.com/digitron/docker/public-key.asc
  parameters:
    siteId:
      value: SID-123-ABC
      targets:
        - pointer: SITE_ID
          components: [digitron-orchestrator-docker]
`

/** The device-supplier mock WFM's app-a template, placeholders as the mock leaves them. */
export const SUPPLIER_TEMPLATE_APP_A = `apiVersion: margo.org/v1alpha1
kind: ApplicationDeployment
metadata:
  name: {{deploymentId}}
  annotations:
    id: {{deploymentId}}
spec:
  appPackageRef:
    id: sample-app-a
  deploymentProfile:
    type: compose
    components:
      - name: sample-app-a
        properties:
          packageLocation: {{packageLocation}}
          wait: true
`

export const SUPPLIER_TEMPLATE_APP_B = SUPPLIER_TEMPLATE_APP_A.replaceAll('sample-app-a', 'sample-app-b')

export function fillTemplate(template: string, deploymentId: string, packageLocation: string): string {
  return template.replaceAll('{{deploymentId}}', deploymentId).replaceAll('{{packageLocation}}', packageLocation)
}

export const clone = <T>(v: T): T => structuredClone(v)
