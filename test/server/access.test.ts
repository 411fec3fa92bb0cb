import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import {operatorApi} from '../../src/server/operator-api/index.ts'
import {OPERATOR_PREFIX} from '../../src/server/operator-api/context.ts'
import {ROLE_PERMISSIONS, ROUTE_RULES, ruleFor} from '../../src/server/access/permissions.ts'
import {ROLES, type AuditEntry, type Role, type TokenInfo} from '../../src/operator-contract/views.ts'
import {silentLogger} from '../../src/util/log.ts'
import {createHarness, capabilitiesBody, HELLO_WORLD, TestDevice, TOKEN, ORIGIN, type Harness} from './harness.ts'

let h: Harness
beforeEach(async () => { h = await createHarness() })
afterEach(() => h.close())

const APP = 'com-northstartida-hello-world'

async function call(token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = {method, headers: {authorization: `Bearer ${token}`, ...headers}}
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
    ;(init.headers as Record<string, string>)['content-type'] = typeof body === 'string' ? 'application/yaml' : 'application/json'
  }
  return h.app.handle(new Request(`${ORIGIN}${OPERATOR_PREFIX}${path}`, init))
}

async function createToken(name: string, role: Role, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await h.operator('POST', '/tokens', {name, role, ...extra})
  expect(res.status).toBe(201)
  return ((await res.json()) as {token: string}).token
}

async function labelledDevice(labels: Record<string, string>) {
  const d = await TestDevice.create(h)
  await d.onboard()
  await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('dev')})
  expect((await h.operator('PUT', `/devices/${d.clientId}/labels`, {labels})).status).toBe(200)
  return d.clientId
}

const publish = () => h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})
const errorOf = async (res: Response) => ((await res.json()) as {error: {code: string, message: string, details?: {path: string, message: string}[]}}).error

describe('the permission table', () => {
  test('every served operator route declares its permission, and every declared route is served', () => {
    const app = operatorApi({
      store: h.store, events: h.events, log: silentLogger, token: TOKEN, version: 'test', enrollment: 'auto',
      deviceApiUrl: ORIGIN, maxBodyBytes: 1024, startedAt: new Date(), now: () => new Date(),
    })
    const served = app.routes.filter(r => r.path.startsWith(OPERATOR_PREFIX)).map(r => `${r.method} ${r.path}`)
    const undeclared = served.filter(key => {
      const [method, path] = key.split(' ') as [string, string]
      return ruleFor(method, path, OPERATOR_PREFIX) === null
    })
    expect(undeclared).toEqual([])
    const declared = Object.keys(ROUTE_RULES).map(k => k.replace(' ', ` ${OPERATOR_PREFIX}`))
    expect(declared.filter(k => !served.includes(k))).toEqual([])
  })

  test('every role × every route: allowed roles get past the check, the others get 403 naming the permission', async () => {
    const tokens = Object.fromEntries(await Promise.all(ROLES.map(async role => [role, await createToken(`t-${role}`, role)] as const)))
    for (const [key, rule] of Object.entries(ROUTE_RULES)) {
      if (rule.permission === 'public') continue
      const [method, pattern] = key.split(' ') as [string, string]
      const path = pattern.replace(/:[A-Za-z]+/g, 'no-such-thing')
      // A body the route can parse; its content does not matter to the check.
      const body = method === 'GET' || method === 'DELETE' ? undefined : {}
      for (const role of ROLES) {
        const res = await call(tokens[role]!, method, path, body, {accept: 'application/json'})
        const allowed = ROLE_PERMISSIONS[role].includes(rule.permission)
        if (allowed) {
          expect({key, role, status: res.status}).not.toMatchObject({status: 403})
          expect({key, role, status: res.status}).not.toMatchObject({status: 401})
        } else {
          expect({key, role, status: res.status}).toEqual({key, role, status: 403})
          const error = await errorOf(res)
          expect(error.code).toBe('forbidden')
          expect(error.message).toContain(rule.permission)
          expect(error.details).toEqual([{path: 'permission', message: rule.permission}])
        }
        if (!res.bodyUsed) await res.body?.cancel()
      }
    }
  })

  test('the data dir token is the admin token "bootstrap"; any token can log in (whoami, health)', async () => {
    const me = (await (await h.operator('GET', '/whoami')).json()) as {name: string, role: string, scope: null}
    expect(me).toMatchObject({name: 'bootstrap', role: 'admin', scope: null})
    const auditor = await createToken('audit-1', 'auditor')
    expect((await call(auditor, 'GET', '/health')).status).toBe(200)
    expect((await call(auditor, 'GET', '/devices')).status).toBe(403)
    expect((await call(auditor, 'GET', '/audit')).status).toBe(200)
  })
})

describe('tokens', () => {
  test('shown once, listed without secrets or hashes, stored only as a hash', async () => {
    const res = await h.operator('POST', '/tokens', {name: 'ci', role: 'operator', scope: 'site = a', expires: '30d'})
    const created = (await res.json()) as TokenInfo & {token: string}
    expect(created).toMatchObject({name: 'ci', role: 'operator', scope: 'site=a', createdBy: 'bootstrap', revokedAt: null})
    expect(created.token.length).toBeGreaterThan(40)
    const listText = await (await h.operator('GET', '/tokens')).text()
    expect(listText).not.toContain(created.token)
    expect(listText).not.toContain('Hash')
    const db = h.database.atRest()
    expect(db.includes(Buffer.from(created.token))).toBe(false)
    expect(db.includes(Buffer.from(TOKEN))).toBe(false)
    expect((await h.operator('POST', '/tokens', {name: 'ci', role: 'viewer'})).status).toBe(409)
    expect((await h.operator('POST', '/tokens', {name: 'x', role: 'root'})).status).toBe(422)
  })

  test('an expired token gets 401 token_expired (the clock is the server\'s)', async () => {
    const start = new Date('2026-01-01T00:00:00Z')
    h.setClock(start)
    const token = await createToken('short', 'viewer', {expires: '1h'})
    expect((await call(token, 'GET', '/devices')).status).toBe(200)
    h.setClock(new Date(start.getTime() + 61 * 60_000))
    const res = await call(token, 'GET', '/devices')
    expect(res.status).toBe(401)
    const error = await errorOf(res)
    expect(error.code).toBe('token_expired')
    expect(error.message).toContain('short')
  })

  test('a revoked token gets 401 token_revoked on its next request', async () => {
    const token = await createToken('gone', 'operator')
    expect((await call(token, 'GET', '/devices')).status).toBe(200)
    expect((await h.operator('POST', '/tokens/gone/revoke')).status).toBe(200)
    const res = await call(token, 'GET', '/devices')
    expect(res.status).toBe(401)
    expect((await errorOf(res)).code).toBe('token_revoked')
    const list = (await (await h.operator('GET', '/tokens')).json()) as {tokens: TokenInfo[]}
    expect(list.tokens.find(t => t.name === 'gone')?.revokedAt).not.toBeNull()
  })
})

describe('scope', () => {
  test('a scoped token sees and changes only devices in its scope', async () => {
    const a = await labelledDevice({site: 'a', line: '1'})
    const b = await labelledDevice({site: 'b', line: '1'})
    const token = await createToken('site-a', 'operator', {scope: 'site=a'})
    const devices = (await (await call(token, 'GET', '/devices')).json()) as {devices: {clientId: string}[]}
    expect(devices.devices.map(d => d.clientId)).toEqual([a])
    expect((await call(token, 'GET', `/devices/${b}`)).status).toBe(404)
    expect((await call(token, 'PATCH', `/devices/${b}/labels`, {labels: {line: '2'}})).status).toBe(404)
    expect((await call(token, 'PATCH', `/devices/${a}/labels`, {labels: {line: '2'}})).status).toBe(200)
    // Relabelling the scope's own key would take the device out of (or bring another into) the token's reach.
    const moved = await call(token, 'PATCH', `/devices/${a}/labels`, {labels: {site: 'b'}})
    expect(moved.status).toBe(403)
    expect((await errorOf(moved)).code).toBe('outside_scope')
    const overview = (await (await call(token, 'GET', '/status')).json()) as {devices: {total: number}}
    expect(overview.devices.total).toBe(1)
    expect((await call(token, 'GET', `/status/${b}`)).status).toBe(404)
  })

  test('a scoped token resolves id prefixes among its own devices only', async () => {
    const a = await labelledDevice({site: 'a'})
    const b = await labelledDevice({site: 'b'})
    const scoped = await createToken('site-a-ids', 'viewer', {scope: 'site=a'})
    const found = await call(scoped, 'GET', `/ids/${a.slice(0, 8)}?kinds=device`)
    expect(found.status).toBe(200)
    expect(((await found.json()) as {id: string}).id).toBe(a)
    const hidden = await call(scoped, 'GET', `/ids/${b.slice(0, 8)}?kinds=device`)
    expect(hidden.status).toBe(404)
    expect(await hidden.text()).not.toContain(b)
    expect((await h.operator('GET', `/ids/${b.slice(0, 8)}?kinds=device`)).status).toBe(200)
  })

  test('the event stream of a scoped token carries only its devices (and events about no device)', async () => {
    const a = await labelledDevice({site: 'a'})
    const b = await labelledDevice({site: 'b'})
    const token = await createToken('site-a-viewer', 'viewer', {scope: 'site=a'})
    const abort = new AbortController()
    const res = await h.app.handle(new Request(`${ORIGIN}${OPERATOR_PREFIX}/events`, {headers: {authorization: `Bearer ${token}`, accept: 'text/event-stream'}, signal: abort.signal}))
    expect(res.status).toBe(200)
    for (const id of [b, a]) expect((await h.operator('PATCH', `/devices/${id}/labels`, {labels: {line: '1'}})).status).toBe(200)
    expect((await publish()).status).toBe(201)
    const reader = res.body!.getReader()
    let text = ''
    while (!text.includes('event: app.published')) text += new TextDecoder().decode((await reader.read()).value)
    abort.abort()
    expect(text).toContain(a)
    expect(text).not.toContain(b)
  })

  test('a rollout selector that could reach outside the scope is refused, naming the rule; one inside it stays inside as the fleet changes', async () => {
    expect((await publish()).status).toBe(201)
    const a = await labelledDevice({site: 'a', line: '1'})
    const b = await labelledDevice({site: 'b', line: '1'})
    const token = await createToken('site-a', 'operator', {scope: 'site=a'})

    for (const selector of ['', 'line=1', 'site in (a,b)', 'site!=b']) {
      const res = await call(token, 'POST', '/rollouts', {appId: APP, selector})
      expect({selector, status: res.status}).toEqual({selector, status: 403})
      const error = await errorOf(res)
      expect(error.code).toBe('outside_scope')
      expect(error.message).toContain('site=a')
    }
    const listed = await call(token, 'POST', '/rollouts', {appId: APP, devices: [a, b]})
    expect(listed.status).toBe(403)
    expect((await errorOf(listed)).message).toContain(b)

    const ok = await call(token, 'POST', '/rollouts', {appId: APP, selector: 'site=a,line=1'})
    expect(ok.status).toBe(201)
    const rollout = (await ok.json()) as {rolloutId: string, targets: {clientId: string}[]}
    expect(rollout.targets.map(t => t.clientId)).toEqual([a])
    // Live growth: a device matching the rest of the selector but outside the scope never joins.
    const c = await labelledDevice({site: 'c', line: '1'})
    const detail = (await (await h.operator('GET', `/rollouts/${rollout.rolloutId}`)).json()) as {targets: {clientId: string}[]}
    expect(detail.targets.map(t => t.clientId)).toEqual([a])
    expect(detail.targets.map(t => t.clientId)).not.toContain(c)
    // Widening it later is refused the same way.
    expect((await call(token, 'PATCH', `/rollouts/${rollout.rolloutId}`, {selector: 'line=1'})).status).toBe(403)

    // A rollout the admin made for the whole fleet is not the scoped token's to see or change.
    const fleet = (await (await h.operator('POST', '/rollouts', {appId: APP, name: 'fleet-wide', selector: 'line=2'})).json()) as {rolloutId: string}
    expect((await call(token, 'DELETE', `/rollouts/${fleet.rolloutId}`)).status).toBe(404)
    const list = (await (await call(token, 'GET', '/rollouts')).json()) as {rollouts: {rolloutId: string}[]}
    expect(list.rollouts.map(r => r.rolloutId)).toEqual([rollout.rolloutId])
    // Deploying under its name would update it: refused like any rollout outside the scope.
    const takeover = await call(token, 'POST', '/rollouts', {appId: APP, name: 'fleet-wide', selector: 'site=a,line=1'})
    expect(takeover.status).toBe(404)
    expect(((await (await h.operator('GET', `/rollouts/${fleet.rolloutId}`)).json()) as {selector: string}).selector).toBe('line=2')
    // Deployments on devices outside the scope are invisible too.
    const deps = (await (await call(token, 'GET', '/deployments')).json()) as {deployments: {clientId: string}[]}
    expect(new Set(deps.deployments.map(d => d.clientId))).toEqual(new Set([a]))
    expect((await call(token, 'POST', '/deployments', {appId: APP, clientId: b})).status).toBe(404)
  })
})

describe('the audit log', () => {
  async function entries(token = TOKEN): Promise<AuditEntry[]> {
    return ((await (await call(token, 'GET', '/audit')).json()) as {entries: AuditEntry[]}).entries
  }

  test('changes are recorded with their actor, target and request id; parameter values never in clear', async () => {
    expect((await publish()).status).toBe(201)
    const a = await labelledDevice({site: 'a'})
    const token = await createToken('deployer', 'operator')
    const res = await call(token, 'POST', '/rollouts', {appId: APP, selector: 'site=a', values: {greeting: 'very-private-greeting'}}, {'x-request-id': 'req-42'})
    expect(res.status).toBe(201)
    const {rolloutId} = (await res.json()) as {rolloutId: string}
    expect((await call(token, 'POST', '/rollouts', {appId: APP, selector: 'site=a', dryRun: true})).status).toBe(200)
    await call(token, 'GET', '/devices')
    const log = await entries()
    for (const action of ['app.published', 'device.onboarded', 'device.labels.replaced', 'token.created', 'rollout.created']) expect(log.map(e => e.action)).toContain(action)
    const created = log.find(e => e.action === 'rollout.created')!
    expect(created).toMatchObject({actor: 'deployer', target: `rollout:${rolloutId}`, requestId: 'req-42'})
    expect(log.find(e => e.action === 'device.onboarded')).toMatchObject({actor: 'system', target: `device:${a}`})
    expect(log.find(e => e.action === 'device.labels.replaced')).toMatchObject({actor: 'bootstrap', target: `device:${a}`})
    expect(log.filter(e => e.action === 'rollout.created')).toHaveLength(1)
    expect(JSON.stringify(log)).not.toContain('very-private-greeting')
    const export_ = await (await call(TOKEN, 'GET', '/audit/export')).text()
    expect(export_.trim().split('\n').map(l => (JSON.parse(l) as AuditEntry).seq)).toEqual(log.map(e => e.seq))
    const byActor = (await (await call(TOKEN, 'GET', '/audit?actor=deployer')).json()) as {entries: AuditEntry[]}
    expect(byActor.entries.map(e => e.action)).toEqual(['rollout.created'])
  })

  async function seed() {
    for (const name of ['one', 'two', 'three', 'four']) await createToken(name, 'viewer')
    const verify = (await (await call(TOKEN, 'GET', '/audit/verify')).json()) as {ok: boolean, entries: number}
    expect(verify).toMatchObject({ok: true, entries: 4})
  }
  const tamper = (sql: string) => {
    h.database.tamper(sql)
  }
  const verify = async () => (await (await call(TOKEN, 'GET', '/audit/verify')).json()) as {ok: boolean, brokenAt?: number, reason?: string}

  test('an entry edited in the database file breaks the chain at that entry', async () => {
    await seed()
    tamper(`UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2`)
    expect(await verify()).toMatchObject({ok: false, brokenAt: 2})
  })

  test('an entry deleted from the database file breaks the chain after the gap', async () => {
    await seed()
    tamper('DELETE FROM audit_log WHERE seq = 2')
    expect(await verify()).toMatchObject({ok: false, brokenAt: 3})
  })

  test('two entries swapped in the database file break the chain at the first', async () => {
    await seed()
    tamper(`UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -1`)
    expect(await verify()).toMatchObject({ok: false, brokenAt: 2})
  })
})

describe('the token and audit commands against a server on loopback', () => {
  const MAIN = new URL('../../src/main.ts', import.meta.url).pathname
  const margo = async (server: string, token: string, ...args: string[]) => {
    const proc = Bun.spawn([process.execPath, MAIN, ...args, '--server', server, '--token', token], {
      stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1', MARGO_DATA_DIR: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent'},
    })
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    return {stdout, stderr, code}
  }

  test('create prints the token once, a viewer is refused with one line naming the permission (exit 4), verify exits 1 on a tampered log', async () => {
    const server = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: r => h.app.handle(r)})
    const url = `http://127.0.0.1:${server.port}`
    try {
      const created = await margo(url, TOKEN, 'token', 'create', 'reader', '--role', 'viewer', '--expires', '30d')
      expect(created.code).toBe(0)
      const secret = created.stdout.trim()
      expect(secret).toMatch(/^margo_/)

      const list = await margo(url, TOKEN, 'token', 'list')
      expect(list.stdout).toContain('reader\tviewer')
      expect(list.stdout).not.toContain(secret)

      const refused = await margo(url, secret, 'token', 'list')
      expect(refused.code).toBe(4)
      expect(refused.stderr.trim().split('\n')).toHaveLength(1)
      expect(refused.stderr).toContain('tokens.manage')

      expect((await margo(url, TOKEN, 'audit', 'verify')).code).toBe(0)
      const listed = await margo(url, TOKEN, 'audit', 'list', '--actor', 'bootstrap', '--json')
      expect((JSON.parse(listed.stdout) as AuditEntry[]).map(e => e.action)).toEqual(['token.created'])

      expect((await margo(url, TOKEN, 'token', 'revoke', 'reader')).code).toBe(0)
      const revoked = await margo(url, secret, 'device', 'list')
      expect(revoked.code).toBe(4)
      expect(revoked.stderr).toContain('revoked')

      h.database.tamper(`UPDATE audit_log SET summary = '{}' WHERE seq = 1`)
      const broken = await margo(url, TOKEN, 'audit', 'verify')
      expect(broken.code).toBe(1)
      expect(broken.stdout).toContain('entry 1')
      const exported = await margo(url, TOKEN, 'audit', 'export')
      expect(exported.stdout.trim().split('\n')).toHaveLength(2)
    } finally {
      server.stop(true)
    }
  }, 30_000)
})
