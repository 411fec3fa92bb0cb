/** Shared ApplicationDescription fixtures: the spec's minimal G1 example and a two-profile app. */

/** Spec §3.2 "Minimal G1 description", verbatim. */
export const MINIMAL_G1 = `apiVersion: margo.org/v1-alpha1
kind: ApplicationDescription
metadata:
  id: com-northstartida-hello-world
  name: Hello World
  version: "1.0"
  catalog:
    organization: [{name: Northstar Industrial Applications, site: "http://northstar-ida.com"}]
deploymentProfiles:
  - type: helm.v3
    id: com-northstartida-hello-world-helm.v3-a
    components:
      - name: hello-world
        properties: {repository: "oci://northstarida.azurecr.io/charts/hello-world", revision: 1.0.1, wait: true}
parameters:
  greeting:
    value: Hello
    targets: [{pointer: global.config.appGreeting, components: [hello-world]}]
configuration:
  sections:
    - name: General Settings
      settings: [{parameter: greeting, name: Greeting, description: The greeting to use., schema: requireText}]
  schema:
    - {name: requireText, dataType: string, maxLength: 45, allowEmpty: false}
`

/**
 * A description with a helm and a compose profile whose parameters target components of both,
 * extensions at every level, and one setting of each rule kind.
 */
export const MULTI_PROFILE = `apiVersion: margo.org/v1-alpha1
kind: ApplicationDescription
x-acme-extensions: {billingPlan: gold}
metadata:
  id: com-northstartida-digitron-orchestrator
  name: Digitron orchestrator
  description: The Digitron orchestrator application
  version: 1.2.1
  catalog:
    application:
      descriptionFile: resources/description.md
      icon: resources/digitron-orchestrator.png
      licenseFile: resources/license.pdf
      releaseNotes: resources/release-notes.md
      site: http://www.northstar-ida.com
      tagline: Northstar Industrial Application's next-gen, AI driven, Digitron instrument orchestrator.
      tags: [optimization, instrumentation]
    author:
      - {name: Roger Wilkershank, email: rpwilkershank@northstar-ida.com}
    organization:
      - {name: Northstar Industrial Applications, site: http://northstar-ida.com}
deploymentProfiles:
  - type: helm.v3
    id: com-northstartida-digitron-orchestrator-helm.v3-a
    description: Kubernetes flavour
    x-devco-extensions: {gpuSharing: true}
    components:
      - name: database-services
        x-devco-extensions: {priority: high}
        properties:
          repository: oci://quay.io/charts/realtime-database-services
          revision: 2.3.7
          timeout: 8m30s
          wait: true
      - name: digitron-orchestrator
        properties:
          repository: oci://northstarida.azurecr.io/charts/northstarida-digitron-orchestrator
          revision: 1.0.9
          wait: true
    requiredResources:
      cpu: {cores: 2, architectures: [amd64, x86_64]}
      memory: 4Gi
      storage: 10Gi
      peripherals: [{type: gpu, manufacturer: NVIDIA}]
      interfaces: [{type: ethernet}]
  - type: compose
    id: com-northstartida-digitron-orchestrator-compose-a
    components:
      - name: digitron-orchestrator-docker
        properties:
          packageLocation: https://northsitarida.com/digitron/docker/digitron-orchestrator.tar.gz
          keyLocation: https://northsitarida.com/digitron/docker/public-key.asc
    requiredResources:
      cpu: {cores: 1, architectures: [amd64, arm64]}
      memory: 1Gi
parameters:
  idpName:
    value: Keycloak
    targets:
      - pointer: idp.name
        components: [digitron-orchestrator]
      - pointer: ENV.IDP_NAME
        components: [digitron-orchestrator-docker]
  pollFrequency:
    value: 120
    targets:
      - pointer: settings.pollFrequency
        components: [digitron-orchestrator, database-services]
      - pointer: POLL_FREQUENCY
        components: [digitron-orchestrator-docker]
  siteId:
    targets:
      - pointer: SITE_ID
        components: [digitron-orchestrator-docker]
  dbOnly:
    value: "yes"
    targets:
      - pointer: db.enabled
        components: [database-services]
  threshold:
    value: 2
    targets:
      - pointer: settings.threshold
        components: [digitron-orchestrator, digitron-orchestrator-docker]
  logLevels:
    value: [info]
    targets:
      - pointer: LOG_LEVELS
        components: [digitron-orchestrator-docker]
  debug:
    value: false
    targets:
      - pointer: settings.debug
        components: [digitron-orchestrator]
configuration:
  sections:
    - name: General
      settings:
        - {parameter: idpName, name: Identity provider, schema: requireText}
        - {parameter: pollFrequency, name: Poll frequency, schema: pollRange}
        - {parameter: siteId, name: Site id, schema: siteIdRule, immutable: true}
        - {parameter: threshold, name: Threshold, schema: thresholdRule}
        - {parameter: logLevels, name: Log levels, schema: levelsSelect}
        - {parameter: debug, name: Debug, schema: boolRule}
  schema:
    - {name: requireText, dataType: string, minLength: 3, maxLength: 45, allowEmpty: false}
    - {name: pollRange, dataType: integer, minValue: 30, maxValue: 3600}
    - {name: siteIdRule, dataType: string, regexMatch: "^SID-[0-9]{3}-[A-Z]{3}$", allowEmpty: false}
    - {name: thresholdRule, dataType: double, minValue: 0, maxValue: 10, maxPrecision: 2}
    - {name: levelsSelect, dataType: "array[string]", multiselect: true, options: [debug, info, warn, error]}
    - {name: boolRule, dataType: boolean, allowEmpty: true}
`
