/**
 * The one place the operator API decides who may do what: every route under /operator/v1
 * passes here (an Elysia hook on the whole API) before its handler runs. The token is
 * authenticated, the route's permission looked up in src/server/access/permissions.ts and
 * checked against the token's role. Handlers then read the caller with `accessOf(request)`.
 */
import {authenticate, type Principal} from '../access/tokens.ts'
import {matchRoute, roleAllows, ruleFor, type RouteRule} from '../access/permissions.ts'
import type {Store} from '../store/store.ts'
import {requestIdOf} from '../request-id.ts'
import {OperatorError} from './errors.ts'

export interface RequestAccess {
  /** null on public routes. */
  principal: Principal | null
  rule: RouteRule
  /** The declared route, e.g. `/rollouts/:rolloutId`. */
  route: string
  requestId: string
  /** Set once the request's audit entry is written (by the route, inside its own transaction). */
  audited: boolean
}

const ACCESS = new WeakMap<Request, RequestAccess>()

export const accessOf = (request: Request): RequestAccess | undefined => ACCESS.get(request)

export interface GuardDeps {
  store: Store
  now: () => Date
}

/**
 * Authorizes one request (once; later calls return the first answer). `route` is the declared
 * route below the prefix when the router knows it; otherwise it is matched from the path.
 */
export function authorizeRequest(deps: GuardDeps, request: Request, prefix: string, route?: string): RequestAccess {
  const known = ACCESS.get(request)
  if (known) return known
  const path = new URL(request.url).pathname
  const declared = route ?? matchRoute(request.method, path.startsWith(prefix) ? path.slice(prefix.length) : path)
  const rule = declared ? ruleFor(request.method, declared, prefix) : null
  const requestId = requestIdOf(request)
  const bare = declared?.startsWith(prefix) ? declared.slice(prefix.length) : declared ?? path
  if (!rule) {
    // Deny by default: a route nobody declared a permission for is nobody's.
    throw new OperatorError(403, 'forbidden', `${request.method} ${bare} has no declared permission, so no token may call it`)
  }
  if (rule.permission === 'public') {
    const access: RequestAccess = {principal: null, rule, route: bare, requestId, audited: false}
    ACCESS.set(request, access)
    return access
  }
  const auth = authenticate(deps.store, request.headers.get('authorization'), deps.now())
  if (!auth.ok) throw new OperatorError(401, auth.code === 'missing_token' || auth.code === 'unknown_token' ? 'unauthorized' : auth.code, auth.message, [{path: 'reason', message: auth.code}])
  const {principal} = auth
  if (!roleAllows(principal.role, rule.permission)) {
    throw new OperatorError(403, 'forbidden', `token ${principal.name} (role ${principal.role}) lacks the permission ${rule.permission} needed for ${request.method} ${bare}`,
      [{path: 'permission', message: rule.permission}])
  }
  const access: RequestAccess = {principal, rule, route: bare, requestId, audited: false}
  ACCESS.set(request, access)
  return access
}
