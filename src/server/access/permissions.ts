/**
 * Who may do what on the operator API, in one table: every route names the permission it needs
 * (or is public), every role the permissions it grants. Pure data and lookups; the guard in
 * ./guard.ts enforces it for every route, and a route missing here is refused (and fails the
 * test that walks the served routes).
 */
import type {Role} from '../../operator-contract/views.ts'

export type Permission =
  /** Who am I, is the server up: every valid token. */
  | 'session'
  /** Devices, deployments, rollouts, apps, status, events, registries, the deny-list — within the token's scope. */
  | 'fleet.read'
  /** Deploy, undeploy, change deployments; create, change, control and delete rollouts. */
  | 'fleet.deploy'
  | 'fleet.label'
  | 'catalog.publish'
  | 'registries.manage'
  /** Update windows: when devices may be changed at all. */
  | 'windows.manage'
  /** Approve, revoke, reject, delete, replace and pre-register devices, manage join tokens: enrollment decisions. */
  | 'devices.enroll'
  | 'denylist.manage'
  | 'tokens.manage'
  /** Set, list and delete secrets (never read their values: no route returns one). */
  | 'secrets.manage'
  | 'audit.read'
  /** Prometheus metrics: counts and timings, never a device or deployment id. */
  | 'metrics.read'

export const PERMISSIONS: readonly Permission[] = [
  'session', 'fleet.read', 'fleet.deploy', 'fleet.label', 'catalog.publish', 'registries.manage', 'windows.manage', 'devices.enroll', 'denylist.manage', 'tokens.manage', 'secrets.manage', 'audit.read', 'metrics.read',
]

const VIEWER: Permission[] = ['session', 'fleet.read', 'metrics.read']

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: VIEWER,
  operator: [...VIEWER, 'fleet.deploy', 'fleet.label'],
  admin: PERMISSIONS,
  auditor: ['session', 'audit.read'],
}

export interface RouteRule {
  /** `public`: no token needed. */
  permission: Permission | 'public'
  /** What the audit log calls this change; absent for reads. */
  action?: string
}

const read = (): RouteRule => ({permission: 'fleet.read'})
const change = (permission: Permission, action: string): RouteRule => ({permission, action})

/** Keyed by `METHOD path` exactly as the routes are declared (Elysia's `route`), below /operator/v1. */
export const ROUTE_RULES: Readonly<Record<string, RouteRule>> = {
  'GET /openapi.json': {permission: 'public'},
  'GET /health': {permission: 'session'},
  'GET /whoami': {permission: 'session'},
  'GET /metrics': {permission: 'metrics.read'},

  'GET /devices': read(),
  'GET /devices/:clientId': read(),
  'POST /devices/:clientId/approve': change('devices.enroll', 'device.approved'),
  'POST /devices/:clientId/revoke': change('devices.enroll', 'device.revoked'),
  'POST /devices/preregister': change('devices.enroll', 'device.preregistered'),
  'POST /devices/:clientId/reject': change('devices.enroll', 'device.rejected'),
  'DELETE /devices/:clientId': change('devices.enroll', 'device.deleted'),
  'POST /devices/:clientId/replace': change('devices.enroll', 'device.replaced'),
  'PUT /devices/:clientId/labels': change('fleet.label', 'device.labels.replaced'),
  'PATCH /devices/:clientId/labels': change('fleet.label', 'device.labels.changed'),

  'GET /join-tokens': {permission: 'devices.enroll'},
  'POST /join-tokens': change('devices.enroll', 'join_token.created'),
  'POST /join-tokens/:id/revoke': change('devices.enroll', 'join_token.revoked'),
  // No operator token: the join token in the body is the credential, checked by the route, which
  // can only preauthorise one certificate fingerprint and audits each use itself.
  'POST /join': {permission: 'public'},

  'GET /denylist': read(),
  'POST /denylist': change('denylist.manage', 'device.denied'),
  'DELETE /denylist/:value': change('denylist.manage', 'denylist.removed'),

  'GET /apps': read(),
  'GET /apps/:appId': read(),
  'POST /apps': change('catalog.publish', 'app.published'),

  'GET /deployments': read(),
  'GET /deployments/:deploymentId': read(),
  'POST /deployments': change('fleet.deploy', 'deployment.created'),
  'PATCH /deployments/:deploymentId': change('fleet.deploy', 'deployment.updated'),
  'DELETE /deployments/:deploymentId': change('fleet.deploy', 'deployment.deleted'),

  'GET /rollouts': read(),
  'GET /rollouts/:rolloutId': read(),
  'POST /rollouts': change('fleet.deploy', 'rollout.created'),
  'PATCH /rollouts/:rolloutId': change('fleet.deploy', 'rollout.updated'),
  'DELETE /rollouts/:rolloutId': change('fleet.deploy', 'rollout.deleted'),
  'GET /rollouts/:rolloutId/revisions': read(),
  'POST /rollouts/:rolloutId/undo': change('fleet.deploy', 'rollout.undone'),
  'POST /rollouts/:rolloutId/pause': change('fleet.deploy', 'rollout.paused'),
  'POST /rollouts/:rolloutId/resume': change('fleet.deploy', 'rollout.resumed'),
  'POST /rollouts/:rolloutId/abort': change('fleet.deploy', 'rollout.aborted'),

  'GET /windows': read(),
  'POST /windows': change('windows.manage', 'window.added'),
  'DELETE /windows/:name': change('windows.manage', 'window.removed'),

  'GET /status': read(),
  'GET /status/:id': read(),
  'GET /events': read(),
  'GET /ids/:prefix': read(),

  'GET /registries': read(),
  'GET /registries/:name': read(),
  'POST /registries': change('registries.manage', 'registry.added'),
  'DELETE /registries/:name': change('registries.manage', 'registry.removed'),
  'POST /registries/:name/sync': change('registries.manage', 'registry.synced'),

  'GET /tokens': {permission: 'tokens.manage'},
  'POST /tokens': change('tokens.manage', 'token.created'),
  'POST /tokens/:name/revoke': change('tokens.manage', 'token.revoked'),

  'GET /secrets': {permission: 'secrets.manage'},
  'PUT /secrets/:name': change('secrets.manage', 'secret.set'),
  'DELETE /secrets/:name': change('secrets.manage', 'secret.deleted'),

  'GET /audit': {permission: 'audit.read'},
  'GET /audit/verify': {permission: 'audit.read'},
  'GET /audit/export': {permission: 'audit.read'},
}

/** The rule for a declared route, or null: an undeclared route is refused, never open. */
export function ruleFor(method: string, route: string, prefix: string): RouteRule | null {
  const path = route.startsWith(prefix) ? route.slice(prefix.length) : route
  return ROUTE_RULES[`${method.toUpperCase()} ${path}`] ?? null
}

export function roleAllows(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission)
}

const PATTERNS = Object.keys(ROUTE_RULES).map(key => {
  const [method, path] = key.split(' ') as [string, string]
  const literal = !path.includes(':')
  const regex = new RegExp('^' + path.split('/').map(s => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/') + '$')
  return {method, path, literal, regex}
})

/**
 * The declared route a request path falls under, for code that runs without the router's
 * answer (a route plugin mounted on its own). Literal paths win over parameters.
 */
export function matchRoute(method: string, path: string): string | null {
  const hits = PATTERNS.filter(p => p.method === method.toUpperCase() && p.regex.test(path))
  const best = hits.find(p => p.literal) ?? hits[0]
  return best ? best.path : null
}
