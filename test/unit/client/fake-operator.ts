import type {AppSummary, App, Deployment, DeviceWithDeployments, FleetOverview} from '../../../src/operator-contract/views.ts'

/** A request the fake received, for assertions on what the client sent. */
export interface Recorded {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string>
  body: Uint8Array
}

export const TOKEN = 'test-token-0123456789'
export const DEVICE_ID = '3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c'
export const DEPLOYMENT_ID = 'a3e2f5dc-8b7e-4c53-9d2b-1f0e3c4d5a6b'
export const APP_ID = 'com-northstartida-hello-world'

export function sampleDeployment(over: Partial<Deployment> = {}): Deployment {
  return {
    deploymentId: DEPLOYMENT_ID,
    clientId: DEVICE_ID,
    appId: APP_ID,
    appVersion: '1.0',
    profile: {id: 'hello-compose', type: 'compose'},
    values: {greeting: 'Hello'},
    digest: 'sha256:' + 'ab'.repeat(32),
    desired: 'present',
    createdAt: '2025-01-01T10:00:00.000Z',
    updatedAt: '2025-01-01T10:00:00.000Z',
    status: {state: 'installed', error: null, components: [{name: 'hello', state: 'installed'}], reportedAt: '2025-01-01T10:05:00.000Z'},
    ...over,
  }
}

export function sampleDevice(over: Partial<DeviceWithDeployments> = {}): DeviceWithDeployments {
  return {
    clientId: DEVICE_ID,
    enrollment: 'active',
    certificate: {fingerprint: 'sha256:' + 'cd'.repeat(32), subject: 'CN=edge-1', keyType: 'ec-p256', notAfter: '2026-01-01T00:00:00.000Z'},
    onboardedAt: '2025-01-01T09:00:00.000Z',
    lastSeenAt: '2025-01-01T10:06:00.000Z',
    capabilities: {
      apiVersion: 'device.margo.org/v1alpha1',
      kind: 'DeviceCapabilitiesManifest',
      properties: {
        id: 'northstarida.xtapro.k8s.edge',
        vendor: 'Northstar Industrial Devices',
        modelNumber: '332ANZE1-N1',
        serialNumber: 'PF45343-AA',
        roles: ['Standalone Device'],
        resources: {cpu: {cores: 4, architecture: 'arm64'}, memory: '8Gi', storage: '64Gi', peripherals: [{type: 'gpu', manufacturer: 'NVIDIA'}], interfaces: [{type: 'ethernet'}, {type: 'wifi'}]},
      },
    },
    capabilitiesUpdatedAt: '2025-01-01T09:00:01.000Z',
    manifestVersion: 3,
    labels: {site: 'plant-7'},
    deployments: [sampleDeployment()],
    ...over,
  }
}

export function sampleApp(): App {
  return {
    appId: APP_ID,
    name: 'Hello World',
    latestVersion: '1.1',
    versions: [
      {version: '1.0', publishedAt: '2025-01-01T08:00:00.000Z', profiles: [{id: 'hello-compose', type: 'compose'}]},
      {version: '1.1', publishedAt: '2025-01-02T08:00:00.000Z', profiles: [{id: 'hello-helm', type: 'helm.v3'}, {id: 'hello-compose', type: 'compose'}]},
    ],
    description: {
      apiVersion: 'margo.org/v1-alpha1',
      extensions: {},
      kind: 'ApplicationDescription',
      metadata: {id: APP_ID, name: 'Hello World', version: '1.1', catalog: {organization: [{name: 'Northstar Industrial Applications'}]}},
      deploymentProfiles: [
        {type: 'helm.v3', id: 'hello-helm', extensions: {}, components: [{name: 'hello-world', properties: {repository: 'oci://northstarida.azurecr.io/charts/hello-world', revision: '1.0.1', wait: true}, extensions: {}}]},
        {type: 'compose', id: 'hello-compose', extensions: {}, components: [{name: 'hello', properties: {packageLocation: 'https://northstarida.example/hello-world/compose.tar.gz'}, extensions: {}}]},
      ],
      parameters: {greeting: {value: 'Hello', targets: [{pointer: 'global.config.appGreeting', components: ['hello-world']}]}},
      configuration: {
        sections: [{name: 'General', settings: [{parameter: 'greeting', name: 'Greeting', schema: 'requireText', immutable: true}]}],
        schema: [{name: 'requireText', dataType: 'string', maxLength: 45}],
      },
    },
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {status, headers: {'content-type': 'application/json'}})
}

function problem(status: number, code: string, message: string, details: {path: string; message: string}[] = []): Response {
  return json(status, {error: {code, message, details}})
}

export interface FakeOperator {
  url: string
  /** Base URL of the operator API (`…/operator/v1`). */
  operatorUrl: string
  requests: Recorded[]
  /** Replies to the next request regardless of route. */
  failNext(response: Response): void
  stop(): void
}

/** A small in-memory operator API on 127.0.0.1, enough to exercise every client method. */
export function startFakeOperator(options: {tls?: {cert: string; key: string}} = {}): FakeOperator {
  const requests: Recorded[] = []
  let override: Response | undefined
  const device = sampleDevice()
  const app = sampleApp()

  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    ...(options.tls ? {tls: options.tls} : {}),
    async fetch(req) {
      const url = new URL(req.url)
      const body = new Uint8Array(await req.arrayBuffer())
      requests.push({
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: Object.fromEntries(req.headers),
        body,
      })
      if (override) {
        const r = override
        override = undefined
        return r
      }
      const path = url.pathname.replace(/^\/operator\/v1/, '')
      if (path === '/openapi.json') return json(200, {openapi: '3.1.0'})
      if (req.headers.get('authorization') !== `Bearer ${TOKEN}`) return problem(401, 'unauthorized', 'missing or wrong bearer token')
      const text = new TextDecoder().decode(body)
      const route = `${req.method} ${path}`

      if (route === 'GET /health') return json(200, {version: '0.1.0', uptimeSeconds: 12, enrollment: 'approve', deviceApiUrl: 'https://127.0.0.1/api/v1'})
      if (route === 'GET /status') {
        const status: FleetOverview = {
          generatedAt: '2025-01-01T10:06:30.000Z',
          thresholds: {staleAfterSeconds: 900, offlineAfterSeconds: 3600},
          devices: {total: 2, online: 1, stale: 0, offline: 0, active: 1, pending: 1, revoked: 0},
          deployments: {total: 1, byState: {installed: 1}},
          failedDeployments: [],
          staleOrOfflineDevices: [],
        }
        return json(200, status)
      }
      const statusMatch = /^\/status\/([^/]+)$/.exec(path)
      if (req.method === 'GET' && statusMatch) {
        const id = decodeURIComponent(statusMatch[1]!)
        if (id !== DEVICE_ID) return problem(404, 'not_found', `no deployment, device or app has the id ${id}`)
        return json(200, {id, kind: 'device', generatedAt: '2025-01-01T10:06:00.000Z', thresholds: {staleAfterMs: 900000, offlineAfterMs: 3600000},
          devices: [{clientId: DEVICE_ID, enrollment: 'active', lastSeenAt: '2025-01-01T10:05:00.000Z', liveness: 'online'}], deployments: []})
      }
      if (route === 'GET /devices') {
        const {deployments: _, ...d} = device
        return json(200, {devices: [d, {...d, clientId: 'ffff0000-0000-4000-8000-000000000000', enrollment: 'pending', lastSeenAt: null, labels: {}, capabilities: null}]})
      }
      if (route === 'POST /devices/preregister') return json(200, {fingerprint: 'sha256:' + 'ef'.repeat(32)})
      const deviceMatch = /^\/devices\/([^/]+)(\/approve|\/revoke)?$/.exec(path)
      if (deviceMatch) {
        const id = decodeURIComponent(deviceMatch[1]!)
        if (id !== DEVICE_ID) return problem(404, 'device_not_found', `device ${id} not found`)
        if (req.method === 'GET' && !deviceMatch[2]) return json(200, device)
        if (req.method === 'POST' && deviceMatch[2] === '/approve') return json(200, {...device, enrollment: 'active'})
        if (req.method === 'POST' && deviceMatch[2] === '/revoke') return json(200, {...device, enrollment: 'revoked'})
      }
      if (route === 'GET /apps') {
        const {description: _, ...summary} = app
        return json(200, {apps: [summary satisfies AppSummary]})
      }
      const appMatch = /^\/apps\/([^/]+)$/.exec(path)
      if (appMatch && req.method === 'GET') {
        const id = decodeURIComponent(appMatch[1]!)
        const version = url.searchParams.get('version')
        if (id !== APP_ID || (version && !app.versions.some(v => v.version === version))) return problem(404, 'app_not_found', `app ${id} not found`)
        return json(200, app)
      }
      if (route === 'POST /apps') {
        const type = req.headers.get('content-type')
        if (type !== 'application/yaml' && type !== 'application/gzip') return problem(400, 'bad_request', `unsupported content type ${type}`)
        if (type === 'application/yaml' && !text.includes('kind: ApplicationDescription')) {
          return problem(422, 'invalid_description', 'the ApplicationDescription is invalid', [{path: 'kind', message: 'must be ApplicationDescription'}])
        }
        if (text.includes('version: "9.9"')) return problem(409, 'conflict', 'version 9.9 exists with other content')
        return json(text.includes('version: "1.1"') ? 200 : 201, app)
      }
      if (route === 'GET /deployments') return json(200, {deployments: [sampleDeployment()]})
      if (route === 'POST /deployments') {
        const request = JSON.parse(text) as {appId: string; clientId: string; values?: Record<string, unknown>; version?: string}
        if (request.clientId !== DEVICE_ID) return problem(404, 'device_not_found', 'no such device')
        if (request.appId !== APP_ID) return problem(404, 'app_not_found', 'no such app')
        if (request.values && 'port' in request.values) {
          return problem(422, 'invalid_parameters', 'invalid parameter values', [{path: 'values.port', message: 'unknown parameter'}])
        }
        return json(201, sampleDeployment({values: request.values ?? {greeting: 'Hello'}, appVersion: request.version ?? '1.1', status: null}))
      }
      const depMatch = /^\/deployments\/([^/]+)$/.exec(path)
      if (depMatch) {
        const id = decodeURIComponent(depMatch[1]!)
        if (id !== DEPLOYMENT_ID) return problem(404, 'deployment_not_found', `deployment ${id} not found`)
        if (req.method === 'GET') return json(200, {...sampleDeployment(), timeline: [{at: '2025-01-01T10:01:00.000Z', state: 'installing', error: null, components: []}]})
        if (req.method === 'PATCH') return json(200, sampleDeployment({values: JSON.parse(text).values}))
        if (req.method === 'DELETE') return json(200, sampleDeployment({desired: 'absent'}))
      }
      return problem(404, 'not_found', `no route ${route}`)
    },
  })
  const scheme = options.tls ? 'https' : 'http'
  const url = `${scheme}://127.0.0.1:${server.port}`
  return {
    url,
    operatorUrl: `${url}/operator/v1`,
    requests,
    failNext(response) {
      override = response
    },
    stop() {
      server.stop(true)
    },
  }
}
