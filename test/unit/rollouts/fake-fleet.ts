import type {Deployment, DeploymentState, RolloutResult, RolloutTarget} from '../../../src/operator-contract/views.ts'

export const TOKEN = 'fleet-test-token-0123456789'
export const APP_ID = 'com-northstartida-hello-world'
export const ROLLOUT_ID = '5d1c7e0a-2f4b-4c8e-9a61-7b3e2d1f0c9a'
export const DEPLOYMENT_ID = 'a3e2f5dc-8b7e-4c53-9d2b-1f0e3c4d5a6b'
export const DEVICE_A = '3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c'
export const DEVICE_B = '7a1b2c3d-0000-4000-8000-00000000000b'
export const SMALL = 'ffff0000-0000-4000-8000-000000000000'

export interface Recorded {
  method: string
  path: string
  body: unknown
}

/** What GET /rollouts/{id} reports per poll: the states of the targets, one list per poll (the last repeats). */
export type Script = {state: DeploymentState, error?: {code: string, message: string}}[][]

function json(status: number, body: unknown) {
  return Response.json(body, {status})
}
const problem = (status: number, code: string, message: string, details: {path: string, message: string}[] = []) => json(status, {error: {code, message, details}})

const deploymentIdFor = (clientId: string) => (clientId === DEVICE_A ? DEPLOYMENT_ID : `${clientId.slice(0, 8)}-1111-4111-8111-111111111111`)

function deployment(clientId: string, over: Partial<Deployment> = {}): Deployment {
  return {
    deploymentId: deploymentIdFor(clientId), clientId, appId: APP_ID, appVersion: '1.0', profile: {id: 'hello-compose', type: 'compose'},
    values: {}, digest: 'sha256:' + 'ab'.repeat(32), desired: 'present',
    createdAt: '2025-01-01T10:00:00.000Z', updatedAt: '2025-01-01T10:00:00.000Z', status: null, ...over,
  }
}

/** A small operator API for the fleet endpoints, on 127.0.0.1. */
export function startFakeFleet() {
  const requests: Recorded[] = []
  let script: Script = [[]]
  let polls = 0
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const url = new URL(req.url)
      const path = url.pathname.replace(/^\/operator\/v1/, '')
      const text = await req.text()
      const body = text ? JSON.parse(text) : undefined
      requests.push({method: req.method, path, body})
      if (req.headers.get('authorization') !== `Bearer ${TOKEN}`) return problem(401, 'unauthorized', 'wrong token')
      const route = `${req.method} ${path}`

      if (route === 'POST /rollouts') {
        const r = body as {name?: string, appId: string, version?: string, devices?: string[], selector?: string, values?: Record<string, unknown>, dryRun?: boolean}
        if (r.values && 'port' in r.values) return problem(422, 'invalid_parameters', 'parameter values are invalid', [{path: 'parameters.port', message: 'unknown parameter "port"'}])
        if (r.devices?.includes('ghost')) return problem(404, 'device_not_found', 'device ghost not found — run: margo device list')
        const devices = r.devices ?? [DEVICE_A, DEVICE_B, SMALL]
        const targets: RolloutTarget[] = devices.filter(d => d !== SMALL).map(clientId => ({
          clientId, deploymentId: r.dryRun && clientId !== DEVICE_A ? null : deploymentIdFor(clientId),
          action: clientId === DEVICE_A ? 'update' : 'create', appVersion: r.version ?? '1.1', profile: {id: 'hello-compose', type: 'compose'},
          digest: 'sha256:' + 'cd'.repeat(32),
          ...(r.dryRun ? {yaml: `kind: ApplicationDeployment\n# for ${clientId}\n`, ...(clientId === DEVICE_A ? {diff: '--- current\n+++ new\n@@ -1 +1 @@\n-greeting: Hello\n+greeting: Hi\n'} : {})} : {}),
        }))
        const result: RolloutResult = {
          rolloutId: r.dryRun ? null : ROLLOUT_ID, name: r.name ?? r.appId, revision: 1, change: 'created', changed: [], dryRun: r.dryRun === true, appId: r.appId, version: r.version ?? null, appVersion: r.version ?? '1.1',
          selector: r.selector ?? null, devices: r.devices ?? [], targets, removed: [],
          skipped: devices.includes(SMALL) ? [{clientId: SMALL, reason: 'profile hello-compose needs 16Gi memory, device has 8Gi'}] : [],
        }
        polls = 0
        return json(r.dryRun ? 200 : 201, result)
      }
      if (route === 'GET /rollouts') return json(200, {rollouts: []})
      if (route === `GET /rollouts/${ROLLOUT_ID}`) {
        const states = script[Math.min(polls, script.length - 1)]!
        polls++
        const targets = [DEVICE_A, DEVICE_B].slice(0, states.length).map((clientId, i) => deployment(clientId, {
          updatedAt: '2025-01-01T10:00:00.000Z',
          status: {state: states[i]!.state, error: states[i]!.error ?? null, components: [], reportedAt: '2025-01-01T10:00:05.000Z'},
        }))
        return json(200, {rolloutId: ROLLOUT_ID, appId: APP_ID, targets, skipped: []})
      }
      if (req.method === 'GET' && path.startsWith('/ids/')) {
        const prefix = decodeURIComponent(path.slice('/ids/'.length))
        const kinds = (url.searchParams.get('kinds') ?? 'device,deployment,rollout').split(',')
        const known = [{kind: 'rollout', id: ROLLOUT_ID}, {kind: 'deployment', id: DEPLOYMENT_ID}, ...[DEVICE_A, DEVICE_B, SMALL].map(id => ({kind: 'device', id}))]
        const hits = known.filter(k => kinds.includes(k.kind) && k.id.startsWith(prefix) && (prefix.length >= 4 || k.id === prefix))
        if (hits.length === 1) return json(200, hits[0])
        return problem(404, 'not_found', `no id starts with ${prefix}`)
      }
      if (route === `DELETE /rollouts/${ROLLOUT_ID}`) return json(200, {rolloutId: ROLLOUT_ID, name: APP_ID, removed: [{clientId: DEVICE_A, deploymentId: DEPLOYMENT_ID}], forgotten: []})
      if (req.method === 'DELETE' && path.startsWith('/rollouts/')) return problem(404, 'rollout_not_found', 'rollout not found')
      if (route === `DELETE /deployments/${DEPLOYMENT_ID}`) return json(200, deployment(DEVICE_A, {desired: 'absent'}))
      if (req.method === 'DELETE' && path.startsWith('/deployments/')) return problem(404, 'deployment_not_found', 'deployment not found')
      if (route === `PATCH /devices/${DEVICE_A}/labels`) {
        const labels: Record<string, string> = {site: 'plant-7', line: '1'}
        for (const [k, v] of Object.entries((body as {labels: Record<string, string | null>}).labels)) {
          if (v === null) delete labels[k]
          else labels[k] = v
        }
        return json(200, {clientId: DEVICE_A, enrollment: 'active', labels})
      }
      if (req.method === 'PATCH' && path.endsWith('/labels')) return problem(404, 'device_not_found', 'device not found')
      return problem(404, 'not_found', `no route ${route}`)
    },
  })
  const url = `http://127.0.0.1:${server.port}`
  return {
    url, operatorUrl: `${url}/operator/v1`, requests,
    /** The states GET /rollouts/{id} reports, one list per poll. */
    script(s: Script) { script = s },
    stop() { server.stop(true) },
  }
}
export type FakeFleet = ReturnType<typeof startFakeFleet>
