import {Elysia} from 'elysia'
import {OPERATOR_PREFIX, deviceVisible, idVisibility, operatorHandler, type OperatorApiContext} from './context.ts'
import {OperatorError} from './errors.ts'
import {checkThresholds} from '../../operator-contract/liveness.ts'
import {buildOverview, buildTargetStatus, type ViewClock} from '../fleet-status/views.ts'
import type {TargetKind} from '../../operator-contract/views.ts'
import {findId} from './ids.ts'
import {latestStatusByDeployment} from '../store/fleet-status.ts'
import type {ClientRecord, DeploymentRecord} from '../store/store.ts'
import {DEFAULT_CERT_EXPIRY_WARNING_MS, expiringCertificates} from '../fleet-status/cert-expiry.ts'
import {inFleet} from './views.ts'
import {queryString} from './context.ts'
import {parseDuration} from '../../util/duration.ts'

/** Reports kept per deployment in a view: all that matter for one, a recent window for many. */
const TIMELINE_ONE = 200
const TIMELINE_MANY = 20

/** Fleet overview and per-target status (docs/watching.md). */
export function statusRoutes(ctx: OperatorApiContext) {
  const handle = operatorHandler(ctx)
  // Checked once at start-up: bad thresholds are a configuration error, not a request's.
  const thresholds = checkThresholds(ctx.liveness)
  const clock = (): ViewClock => ({now: ctx.now(), thresholds, pendingSeen: ctx.lastSeen?.()})

  return new Elysia({name: 'margo-operator-status', prefix: OPERATOR_PREFIX})
    .get('/status', ({request, query}) => handle(request, () => {
      const {store} = ctx
      const within = queryString(query.certExpiryWithin)
      let windowMs = ctx.certExpiryWarningMs ?? DEFAULT_CERT_EXPIRY_WARNING_MS
      if (within !== undefined) {
        try { windowMs = parseDuration(within) } catch (err) { throw new OperatorError(400, 'bad_request', `certExpiryWithin: ${err instanceof Error ? err.message : String(err)}`) }
      }
      // One read transaction: counts and lists come from the same moment.
      return store.transaction(() => {
        // A scoped token's overview counts only the devices in its scope and their deployments; tombstones are not counted.
        const clients = store.listClients().filter(c => inFleet(c) && deviceVisible(request, c))
        const ids = new Set(clients.map(c => c.clientId))
        const overview = buildOverview(clients, store.listDeployments().filter(d => ids.has(d.clientId)), latestStatusByDeployment(store), clock())
        return {...overview, expiringCertificates: expiringCertificates(clients, ctx.now(), windowMs), certExpiryWarningSeconds: Math.round(windowMs / 1000)}
      })
    }))
    .get('/status/:id', ({request, params}) => handle(request, () => {
      const {store} = ctx
      return store.transaction(() => {
        let kind: TargetKind
        let deployments: DeploymentRecord[]
        let clients: ClientRecord[]
        // Full ids and app ids first; a prefix only names a deployment or device when nothing is called that.
        const named = (x: string) => store.getDeployment(x) !== null || store.getClient(x) !== null || store.listAppVersions(x).length > 0 || store.listDeployments({appId: x}).length > 0
        const id = named(params.id) ? params.id : (findId(store, ['deployment', 'device'], params.id, idVisibility(ctx, request))?.id ?? params.id)
        const deployment = store.getDeployment(id)
        const device = deployment ? null : store.getClient(id)
        if (deployment) {
          kind = 'deployment'
          deployments = [deployment]
          clients = [store.getClient(deployment.clientId)].filter((c): c is ClientRecord => c !== null)
        } else if (device) {
          kind = 'device'
          deployments = store.listDeployments({clientId: id})
          clients = [device]
        } else {
          deployments = store.listDeployments({appId: id})
          if (!deployments.length && !store.listAppVersions(id).length) {
            throw new OperatorError(404, 'not_found', `no deployment, device or app has the id ${id} — list them with: margo status, margo device list, margo app list`)
          }
          kind = 'app'
          const ids = new Set(deployments.map(d => d.clientId))
          clients = store.listClients().filter(c => ids.has(c.clientId))
        }
        clients = clients.filter(c => deviceVisible(request, c))
        const visible = new Set(clients.map(c => c.clientId))
        deployments = deployments.filter(d => visible.has(d.clientId))
        if (kind !== 'app' && clients.length === 0) throw new OperatorError(404, 'not_found', `no deployment, device or app has the id ${id} — list them with: margo status, margo device list, margo app list`)
        const limit = deployments.length === 1 ? TIMELINE_ONE : TIMELINE_MANY
        const items = deployments.map(d => ({deployment: d, timeline: store.statusTimeline(d.deploymentId, limit)}))
        return buildTargetStatus(id, kind, clients, items, clock())
      })
    }))
}

const obj = (properties: Record<string, unknown>, required: string[] = []) => ({type: 'object', required, properties})
const str = {type: 'string'}
const time = {type: 'string', format: 'date-time'}
const nullableTime = {type: ['string', 'null'], format: 'date-time'}
const count = {type: 'integer', minimum: 0}
const error = {type: ['object', 'null'], properties: {code: str, message: str}}
const liveness = {enum: ['online', 'stale', 'offline']}
const thresholds = obj({staleAfterSeconds: count, offlineAfterSeconds: count})
const deviceLiveness = obj({clientId: str, enrollment: {enum: ['pending', 'active', 'revoked']}, liveness, lastSeenAt: nullableTime, labels: {type: 'object', additionalProperties: str}}, ['clientId', 'liveness'])
const component = obj({name: str, state: str, error})
const timelineEntry = obj({at: time, state: str, error, components: {type: 'array', items: component}, count: {type: 'integer', minimum: 2}, lastAt: time})
const errorResponse = {$ref: '#/components/responses/Error'}

/** The status and event-stream paths, for the operator OpenAPI document. */
export const STATUS_OPENAPI_PATHS = {
  '/status': {get: {
    summary: 'Fleet overview: devices by liveness and enrollment, deployments by state, what needs attention',
    responses: {
      '200': {description: 'OK', content: {'application/json': {schema: obj({
        generatedAt: time,
        thresholds,
        devices: obj({total: count, online: count, stale: count, offline: count, active: count, pending: count, revoked: count}),
        deployments: obj({total: count, byState: {type: 'object', additionalProperties: count}}),
        failedDeployments: {type: 'array', items: obj({deploymentId: str, clientId: str, appId: str, appVersion: str, error, reportedAt: time})},
        staleOrOfflineDevices: {type: 'array', items: deviceLiveness},
      })}}},
      '401': errorResponse,
    },
  }},
  '/status/{id}': {get: {
    summary: 'Status of one deployment, of every deployment on a device, or of every deployment of an app, with report timelines',
    parameters: [{name: 'id', in: 'path', required: true, description: 'A deploymentId, a clientId or an appId', schema: str}],
    responses: {
      '200': {description: 'OK', content: {'application/json': {schema: obj({
        id: str, kind: {enum: ['deployment', 'device', 'app']}, generatedAt: time, thresholds,
        devices: {type: 'array', items: deviceLiveness},
        deployments: {type: 'array', items: obj({
          deploymentId: str, clientId: str, appId: str, appVersion: str, profile: obj({id: str, type: str}),
          desired: {enum: ['present', 'absent']}, digest: str, createdAt: time, updatedAt: time,
          state: str, reportedAt: nullableTime, error, components: {type: 'array', items: component},
          lastError: {type: ['object', 'null'], properties: {at: time, state: str, code: str, message: str, component: str}},
          timeline: {type: 'array', items: timelineEntry},
        })},
      })}}},
      '401': errorResponse,
      '404': errorResponse,
    },
  }},
  '/events': {get: {
    summary: 'Server-sent events: every change on the server as it happens',
    parameters: [
      {name: 'types', in: 'query', description: 'Comma-separated event types or families (device.*); all when absent', schema: str},
      {name: 'Last-Event-ID', in: 'header', description: 'Replay the events after this id (sent automatically on reconnect)', schema: str},
    ],
    responses: {
      '200': {description: 'A text/event-stream: `event: <type>`, `id: <n>`, `data: <ServerEvent as JSON>`; a `: heartbeat` comment every 15 s', content: {'text/event-stream': {schema: str}}},
      '400': errorResponse,
      '401': errorResponse,
      '406': errorResponse,
    },
  }},
} as const
