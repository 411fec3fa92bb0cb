/** What an operator request changed, as the audit log names it: `kind:id`, e.g. `rollout:3f0c…`, `token:ci`. */

const KINDS: Record<string, string> = {
  devices: 'device', deployments: 'deployment', rollouts: 'rollout', registries: 'registry', tokens: 'token', denylist: 'denylist', apps: 'app',
}

/** Path parameters of a declared route (`/rollouts/:rolloutId`) in a concrete path. */
export function routeParams(route: string, path: string): Record<string, string> {
  const names = route.split('/')
  const values = path.split('/')
  const out: Record<string, string> = {}
  names.forEach((n, i) => { if (n.startsWith(':') && values[i] !== undefined) out[n.slice(1)] = decodeURIComponent(values[i]!) })
  return out
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)

/** The target of a change: the route's resource, named by its path parameter or by what the request created. */
export function auditTarget(route: string, params: Record<string, string>, body: Record<string, unknown> | undefined, result: unknown): string {
  const segment = route.split('/')[1] ?? ''
  const kind = KINDS[segment] ?? segment
  const r = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>
  const first = Object.values(params)[0]
  const id = first
    ?? str(r.rolloutId) ?? str(r.deploymentId) ?? str(r.fingerprint) ?? str(r.value)
    ?? (kind === 'app' && str(r.appId) ? `${r.appId}@${str(r.latestVersion) ?? str(r.version) ?? ''}`.replace(/@$/, '') : undefined)
    ?? str(r.name) ?? str(body?.name) ?? str(body?.appId) ?? '-'
  return `${kind}:${id}`
}
