/**
 * The portman suite: the Postman collection generated from the G1 OpenAPI, run by newman through
 * our own RFC 9421 signing proxy (newman cannot sign), with our own patch of the collection
 * (path variables, request order, payloads and one meaningful test per request). The suite only
 * covers the happy path; it proves that a WFM accepts the Go signer's profile (label `sig`,
 * `@authority`, SPKI keyid) and the 1.0.0 body shapes.
 */
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {WireRequest} from '../common/exchange.ts'
import {certificateForOnboarding, type DeviceIdentity} from '../common/identity.ts'
import {suiteReport, type StepResult, type SuiteReport} from '../common/report.ts'
import {signWire} from '../common/signing.ts'
import {TransportError, type Send, type TlsOptions} from '../common/transport.ts'

export const PORTMAN_COLLECTION = 'conformance-2/Data-Generator/wfm-supplier/postman_collection.json'

interface Item {
  name: string
  request: {method: string, url: {raw?: string, path?: string[], host?: string[], variable?: unknown[]} , header?: {key: string, value: string}[], body?: {mode?: string, raw?: string}}
  event?: {listen: string, script: {exec: string[], type?: string}}[]
  [k: string]: unknown
}
interface Collection {item: Item[], [k: string]: unknown}

type Role = 'ca' | 'onboarding' | 'capabilities-post' | 'capabilities-put' | 'deployments' | 'bundle' | 'yaml' | 'status'
const ORDER: Role[] = ['ca', 'onboarding', 'capabilities-post', 'capabilities-put', 'deployments', 'bundle', 'yaml', 'status']

export function portmanRole(item: Item): Role | undefined {
  const p = (item.request.url.path ?? []).join('/')
  const m = item.request.method.toUpperCase()
  if (p === 'api/v1/onboarding/certificate') return 'ca'
  if (p === 'api/v1/onboarding') return 'onboarding'
  if (/\/capabilities$/.test(p)) return m === 'PUT' ? 'capabilities-put' : 'capabilities-post'
  if (/\/bundles\/:digest$/.test(p)) return 'bundle'
  if (/\/deployments$/.test(p)) return 'deployments'
  if (/\/deployments\/:deploymentId\/status$/.test(p)) return 'status'
  if (/\/deployments\/:deploymentId\/:digest$/.test(p)) return 'yaml'
  return undefined
}

const BODY: Partial<Record<Role, string>> = {
  'onboarding': '{{onboardingRequest}}',
  'capabilities-post': '{{capabilitiesRequest}}',
  'capabilities-put': '{{capabilitiesUpdateRequest}}',
  'status': '{{statusRequest}}',
}

const codeIn = (codes: number[]) => `pm.expect(pm.response.code).to.be.oneOf(${JSON.stringify(codes)});`

const TESTS: Partial<Record<Role, string[]>> = {
  'onboarding': [
    "pm.test('onboarding answers 201 with a clientId', function () {",
    '  pm.expect(pm.response.code).to.equal(201);',
    "  const id = pm.response.json().clientId; pm.expect(id).to.be.a('string').and.not.empty;",
    "  pm.environment.set('clientId', id);",
    "  for (const key of ['capabilitiesRequest', 'capabilitiesUpdateRequest']) {",
    '    const body = JSON.parse(pm.environment.get(key)); body.properties.id = id; body.properties.serialNumber = `SN-${id}`;',
    '    pm.environment.set(key, JSON.stringify(body));',
    '  }',
    '});',
  ],
  'capabilities-post': [`pm.test('capabilities POST is accepted', function () { ${codeIn([200, 201, 202, 204])} });`],
  'capabilities-put': [`pm.test('capabilities PUT is accepted', function () { ${codeIn([200, 201, 202, 204])} });`],
  'deployments': [
    "pm.test('the manifest answers 200 with deployments', function () {",
    '  pm.expect(pm.response.code).to.equal(200);',
    "  const m = pm.response.json(); pm.expect(m).to.have.property('deployments');",
    "  if (m.bundle && m.bundle.digest) { pm.environment.set('bundleDigest', m.bundle.digest); pm.environment.set('digest', m.bundle.digest); }",
    "  if (m.deployments.length > 0) { pm.environment.set('deploymentId', m.deployments[0].deploymentId); pm.environment.set('deploymentDigest', m.deployments[0].digest); }",
    '  else { postman.setNextRequest(null); }',
    '});',
  ],
  'bundle': [
    "pm.test('the bundle answers 200', function () { pm.expect(pm.response.code).to.equal(200); });",
    "pm.environment.set('digest', pm.environment.get('deploymentDigest'));",
  ],
  'yaml': ["pm.test('the deployment YAML answers 200', function () { pm.expect(pm.response.code).to.equal(200); });"],
  'status': [`pm.test('the status report is accepted', function () { ${codeIn([200, 201, 202, 204])} });`],
}

/**
 * The runnable collection: path variables become `{{name}}`, requests run in dependency order
 * (the manifest before the bundle), bodies come from the environment, and each request gets one
 * test that can fail (the CA request keeps the collection's own four tests).
 */
export function patchCollection(collection: Collection): Collection {
  const items = collection.item
    .map(item => ({item, role: portmanRole(item)}))
    .filter((x): x is {item: Item, role: Role} => x.role !== undefined)
    .sort((a, b) => ORDER.indexOf(a.role) - ORDER.indexOf(b.role))
    .map(({item, role}) => {
      const path = (item.request.url.path ?? []).map(s => (s.startsWith(':') ? `{{${s.slice(1)}}}` : s))
      const url = {...item.request.url, path, raw: `{{baseUrl}}/${path.join('/')}`}
      delete url.variable
      const body = BODY[role] ? {mode: 'raw', raw: BODY[role], options: {raw: {language: 'json'}}} : item.request.body
      const tests = TESTS[role]
      const event = tests ? [{listen: 'test', script: {type: 'text/javascript', exec: tests}}] : item.event
      return {...item, request: {...item.request, url, ...(body ? {body} : {})}, ...(event ? {event} : {})}
    })
  return {...collection, item: items}
}

/** The environment of the run: the device, its certificate and the 1.0.0 payloads. */
export function portmanEnvironment(identity: DeviceIdentity, deviceId: string, proxyBase: string): {name: string, values: {key: string, value: string, enabled: boolean}[]} {
  const certificate = certificateForOnboarding(identity)
  const caps = (update: boolean) => JSON.stringify({
    apiVersion: 'device.margo.org/v1alpha1', kind: 'DeviceCapabilitiesManifest',
    properties: {
      id: deviceId, vendor: 'Margo Vendor', modelNumber: 'MARGO-MODEL-01', serialNumber: `SN-${deviceId}`,
      roles: update ? ['Standalone Device', 'Cluster Leader'] : ['Standalone Device'],
      resources: {
        cpu: update ? {cores: 8, architecture: 'amd64'} : {cores: 4, architecture: 'arm64'},
        memory: update ? '16Gi' : '8Gi', storage: update ? '128Gi' : '64Gi',
        interfaces: update ? [{type: 'ethernet'}, {type: 'wifi'}] : [{type: 'ethernet'}], peripherals: [],
      },
    },
  })
  const values: Record<string, string> = {
    baseUrl: proxyBase, deviceId, clientId: '', certificate,
    onboardingRequest: JSON.stringify({apiVersion: 'onboarding.margo.org/v1alpha1', kind: 'OnboardingRequest', certificate}),
    capabilitiesRequest: caps(false),
    capabilitiesUpdateRequest: caps(true),
    statusRequest: JSON.stringify({apiVersion: 'deployment.margo.org/v1alpha1', kind: 'DeploymentStatusManifest', deploymentId: '{{deploymentId}}', components: [{name: 'app-component-1', state: 'installed'}], status: {state: 'installed'}}),
    deploymentId: '', manifestEtag: '', digest: '', bundleDigest: '', deploymentDigest: '',
  }
  return {name: 'margo conformance (portman)', values: Object.entries(values).map(([key, value]) => ({key, value, enabled: true}))}
}

const DROP_REQUEST = new Set(['host', 'content-length', 'signature', 'signature-input', 'content-digest', 'connection', 'accept-encoding'])
const DROP_RESPONSE = new Set(['content-length', 'transfer-encoding', 'connection', 'content-encoding'])

/** Where a proxied path goes: the target's path prefix is not repeated. */
export function upstreamUrl(targetBase: string, incomingPath: string, search: string): string {
  const target = new URL(targetBase)
  const prefix = target.pathname.replace(/\/+$/, '')
  const rest = prefix && (incomingPath === prefix || incomingPath.startsWith(`${prefix}/`)) ? incomingPath.slice(prefix.length) : incomingPath
  return `${target.protocol}//${target.host}${prefix}${rest}${search}`
}

/** A plain-HTTP proxy on loopback that signs every request (the Go signer's profile) and forwards it. */
export function startSigningProxy(targetBase: string, identity: DeviceIdentity, send: Send): {url: string, stop: () => void} {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: async (request) => {
      const incoming = new URL(request.url)
      const body = await request.text()
      const headers: Record<string, string> = {}
      request.headers.forEach((v, k) => { if (!DROP_REQUEST.has(k)) headers[k] = v })
      if (body && !headers['content-type']) headers['content-type'] = 'application/json'
      const req: WireRequest = {method: request.method, url: upstreamUrl(targetBase, incoming.pathname, incoming.search), headers, ...(body ? {body} : {})}
      try {
        const res = await send(await signWire(req, identity, 'proxy'))
        const out = new Headers()
        for (const [k, v] of Object.entries(res.headers)) if (!DROP_RESPONSE.has(k)) out.set(k, v)
        return new Response(res.status === 304 || res.status === 204 ? null : res.bytes, {status: res.status, headers: out})
      } catch (err) {
        const message = err instanceof TransportError ? err.message : String(err)
        return new Response(JSON.stringify({error: `signing proxy: ${message}`}), {status: 502, headers: {'content-type': 'application/json'}})
      }
    },
  })
  return {url: `http://127.0.0.1:${server.port}`, stop: () => { void server.stop(true) }}
}

interface NewmanReport {
  run?: {executions?: {item?: {name?: string}, response?: {code?: number}, requestError?: {message?: string}, assertions?: {assertion?: string, error?: {message?: string}}[]}[]}
}

/** Steps from newman's JSON report: one per assertion. */
export function stepsFromNewman(report: NewmanReport, ranItems: readonly string[], allItems: readonly {name: string, role: string}[], defaultDeployment: boolean): StepResult[] {
  const steps: StepResult[] = []
  let n = 0
  for (const ex of report.run?.executions ?? []) {
    const item = ex.item?.name ?? 'request'
    const code = ex.response?.code
    const assertions = ex.assertions ?? []
    if (assertions.length === 0 && ex.requestError) {
      steps.push({suite: 'portman', id: `A${++n}`, name: item, result: 'FAIL', expected: 'an answer', got: 'no answer', reason: ex.requestError.message ?? 'request error'})
    }
    for (const a of assertions) {
      const failed = a.error !== undefined
      steps.push({
        suite: 'portman', id: `A${++n}`, name: `${item}: ${a.assertion ?? 'assertion'}`,
        result: failed ? 'FAIL' : 'PASS', expected: a.assertion ?? 'assertion holds',
        got: code !== undefined ? String(code) : '-',
        ...(failed ? {reason: a.error?.message ?? 'assertion failed'} : {}),
      })
    }
  }
  for (const item of allItems) {
    if (ranItems.includes(item.name)) continue
    steps.push({
      suite: 'portman', id: `A${++n}`, name: item.name, result: 'SKIPPED', expected: '-', got: '-',
      reason: defaultDeployment ? 'not run: the manifest had no deployment to fetch' : 'precondition unmet: every new client starts with at least one deployment',
    })
  }
  return steps
}

export interface PortmanOptions {
  /** The suite's Postman collection, as read from the conformance material. */
  collection: unknown
  baseUrl: string
  send: Send
  tls: TlsOptions
  identity: DeviceIdentity
  newman?: string
  defaultDeployment: boolean
}

export async function runPortman(options: PortmanOptions): Promise<SuiteReport> {
  const newman = options.newman ?? Bun.which('newman')
  if (!newman) return suiteReport('portman', [], 'newman is not installed — install it (npm install -g newman) or pass --newman PATH')
  if (!existsSync(newman)) return suiteReport('portman', [], `newman not found at ${newman} — check --newman`)
  const dir = mkdtempSync(join(tmpdir(), 'margo-portman-'))
  const proxy = startSigningProxy(options.baseUrl, options.identity, options.send)
  try {
    const patched = patchCollection(options.collection as Collection)
    const proxyBase = `${proxy.url}${new URL(options.baseUrl).pathname.replace(/\/+$/, '')}`
    const deviceId = `device-${Math.floor(Date.now() / 1000)}-${process.pid}`
    writeFileSync(join(dir, 'collection.json'), JSON.stringify(patched))
    writeFileSync(join(dir, 'environment.json'), JSON.stringify(portmanEnvironment(options.identity, deviceId, proxyBase)))
    const reportFile = join(dir, 'report.json')
    const proc = Bun.spawn([newman, 'run', join(dir, 'collection.json'), '--environment', join(dir, 'environment.json'),
      '--env-var', `baseUrl=${proxyBase}`, '--timeout-request', '30000', '--reporters', 'json', '--reporter-json-export', reportFile],
    {stdout: 'pipe', stderr: 'pipe', env: process.env})
    const [stderr] = await Promise.all([new Response(proc.stderr).text(), new Response(proc.stdout).text(), proc.exited])
    let report: NewmanReport
    try {
      report = JSON.parse(readFileSync(reportFile, 'utf8')) as NewmanReport
    } catch {
      return suiteReport('portman', [], `newman (${newman}) produced no report: ${stderr.trim().split('\n').slice(-3).join(' ') || `exit ${proc.exitCode}`}`)
    }
    const ran = (report.run?.executions ?? []).map(e => e.item?.name ?? '')
    const all = patched.item.map(i => ({name: i.name, role: portmanRole(i) ?? ''}))
    return suiteReport('portman', stepsFromNewman(report, ran, all, options.defaultDeployment))
  } finally {
    proxy.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}
