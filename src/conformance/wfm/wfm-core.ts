/**
 * The wfm-core suite: the curated Postman collection of the Margo conformance material, turned
 * into one step per response example (11 requests, 31 examples). 2xx steps run first, then the
 * error steps, each group in collection order, sharing one context. Every error example gets
 * the trigger that provokes it (a missing Content-Digest, a flipped signature byte, an unknown
 * key, an invalid enum, `If-None-Match: *`, `Accept: text/plain`, …). Pure: the runner signs
 * and sends what `prepareCoreStep` describes.
 */
import type {WireRequest, WireResponse} from '../common/exchange.ts'
import {lookup, sha256Hex} from '../common/exchange.ts'
import type {StepConflict} from './conflicts.ts'
import type {Check, Expectation} from './evaluate.ts'

export const WFM_CORE_COLLECTION = 'conformance/testcases/wfm-core/postman_collection.json'

export interface PostmanHeader {key: string, value: string, disabled?: boolean}
export interface PostmanExample {id: string, name: string, code: number}
export interface PostmanItem {
  id: string
  name: string
  crIds?: string[]
  request: {
    method: string
    url: {path?: string[]} | string
    header?: PostmanHeader[]
    body?: {mode?: string, raw?: string}
  }
  response?: PostmanExample[]
}
export interface PostmanCollection {item: PostmanItem[]}

export type ItemKind =
  | 'ca' | 'onboarding' | 'capabilities-post' | 'capabilities-put' | 'bundle' | 'deployments' | 'yaml'
  | 'status' | 'invalid-deployment-types' | 'invalid-runtimes' | 'no-accept' | 'other'

export interface CoreStep {
  /** `<kind>-<code>`, e.g. `capabilities-post-401`. */
  id: string
  name: string
  caseId: string
  crIds: string[]
  kind: ItemKind
  code: number
  item: PostmanItem
}

/** How the runner must sign a prepared request. */
/**
 * `fresh`: the key of the never-seen certificate in the onboarding-403 body; `stranger`: another
 * key that was never onboarded at all, used on the run's own client path.
 */
export type CoreSigning = 'none' | 'own' | 'own-no-digest' | 'own-flipped' | 'fresh' | 'stranger'

export interface CoreContext {
  clientId?: string
  deviceId?: string
  deploymentId?: string
  bundleDigest?: string
  deploymentDigest?: string
  /** The WFM's enrolment policy when it is known (from its operator API). */
  enrollment?: 'auto' | 'approve' | 'allowlist'
}

export interface CoreEnv {
  baseUrl: string
  /** base64 of the PEM of the run's device certificate, and of a never-onboarded one. */
  ownCertificate: string
  freshCertificate: string
  /** Makes the garbage certificate unique per run. */
  nonce: string
}

export interface PreparedCoreStep {
  request: WireRequest
  signing: CoreSigning
  expectation: Expectation
}

const ZERO_DIGEST = `sha256:${'0'.repeat(64)}`
const NO_DEPLOYMENT = 'deployment-none-00000000'
const BUNDLE_MEDIA_TYPE = 'application/vnd.margo.bundle.v1+tar+gzip'

function pathOf(item: PostmanItem): string[] {
  const url = item.request.url
  if (typeof url === 'string') return url.replace(/^\{\{baseUrl\}\}\/?/, '').split('?')[0]!.split('/').filter(Boolean)
  return url.path ?? []
}

/** Which endpoint (and which variant of it) an item exercises. */
export function itemKind(item: PostmanItem): ItemKind {
  const p = pathOf(item).join('/')
  const method = item.request.method.toUpperCase()
  if (p === 'api/v1/onboarding/certificate') return 'ca'
  if (p === 'api/v1/onboarding') return 'onboarding'
  if (/^api\/v1\/clients\/:clientId\/capabilities\/:deviceId$/.test(p)) {
    return /supportedRuntimes/i.test(item.name) ? 'invalid-runtimes' : 'invalid-deployment-types'
  }
  if (/^api\/v1\/clients\/:clientId\/capabilities$/.test(p)) return method === 'PUT' ? 'capabilities-put' : 'capabilities-post'
  if (/^api\/v1\/clients\/:clientId\/bundles\/:digest$/.test(p)) return 'bundle'
  if (/^api\/v1\/clients\/:clientId\/deployments$/.test(p)) return (item.request.header ?? []).length === 0 ? 'no-accept' : 'deployments'
  if (/^api\/v1\/clients\/:clientId\/deployments\/:deploymentId\/status$/.test(p)) return 'status'
  if (/^api\/v1\/clients\/:clientId\/deployments\/:deploymentId\/:digest$/.test(p)) return 'yaml'
  return 'other'
}

/** The 31 steps, in the order they run: every 2xx example first, then every error example. */
export function coreSteps(collection: PostmanCollection): CoreStep[] {
  const all: CoreStep[] = []
  for (const item of collection.item) {
    const kind = itemKind(item)
    for (const example of item.response ?? []) {
      all.push({
        id: `${kind}-${example.code}`,
        name: `${item.name} — ${example.code} ${example.name.replace(/\s+/g, ' ').trim()}`.slice(0, 140),
        caseId: example.id,
        crIds: item.crIds ?? [],
        kind, code: example.code, item,
      })
    }
  }
  const ok = (s: CoreStep) => s.code >= 200 && s.code < 300
  return [...all.filter(ok), ...all.filter(s => !ok(s))]
}

// ---------------------------------------------------------------- bodies

/** The capabilities body the suite's runner sends (the G1.5 shape, which a G1 WFM may also accept). */
export function coreCapabilitiesBody(deviceId: string, deploymentTypes: string[] = ['helm', 'compose']): Record<string, unknown> {
  return {
    apiVersion: 'device.margo.org/v1alpha1',
    kind: 'DeviceCapabilitiesManifest',
    properties: {
      id: deviceId, vendor: 'Acme Corp', modelNumber: 'ACM-XYZ', serialNumber: 'SN-12345',
      cpus: [{cores: 4, architecture: 'arm64'}], memory: '16Gi', storage: '256Gi',
      peripherals: [], interfaces: [{type: 'ethernet'}], otelCollector: false,
      supportedRuntimes: ['oci'], supportedDeploymentTypes: deploymentTypes,
    },
  }
}

function parseRaw(item: PostmanItem): Record<string, unknown> {
  try {
    const v = JSON.parse(item.request.body?.raw ?? '{}') as unknown
    return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {}
  } catch {
    return {}
  }
}

function statusBody(item: PostmanItem, deploymentId: string): Record<string, unknown> {
  return {...parseRaw(item), apiVersion: 'deployment.margo.org/v1alpha1', kind: 'DeploymentStatusManifest', deploymentId}
}

function invalidStatusBody(deploymentId: string): Record<string, unknown> {
  return {
    apiVersion: 'deployment.margo.org/v1alpha1', kind: 'DeploymentStatusManifest', deploymentId,
    status: {state: '__invalid_state__'}, components: [{name: 'component-1', state: 'installed'}],
  }
}

// ---------------------------------------------------------------- checks

const isString = (path: string): Check => ({
  label: `${path} is a string`,
  check: res => typeof lookup(res, path) === 'string' ? null : `${path} is ${describe(lookup(res, path))}`,
})

function describe(v: unknown): string {
  if (v === undefined) return 'missing'
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'string' ? `"${v.length > 60 ? `${v.slice(0, 60)}…` : v}"` : typeof v === 'object' ? 'an object' : String(v)
}

function stripEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '')
}

/** What the suite checks on every manifest answer (MI-007/009/015/031/034/035). */
export const MANIFEST_CHECKS: Check[] = [
  {label: 'manifestVersion is a number', check: res => typeof lookup(res, 'manifestVersion') === 'number' ? null : `manifestVersion is ${describe(lookup(res, 'manifestVersion'))}`},
  {
    label: 'bundle is null when deployments is empty (MI-009)',
    check: res => {
      const deployments = lookup(res, 'deployments')
      if (!Array.isArray(deployments)) return `deployments is ${describe(deployments)}`
      if (deployments.length > 0) return null
      const body = res.json as Record<string, unknown> | undefined
      return body && Object.hasOwn(body, 'bundle') && body.bundle === null ? null : `bundle is ${describe(body?.bundle)} with no deployments`
    },
  },
  {
    label: `bundle.mediaType is ${BUNDLE_MEDIA_TYPE} (MI-031)`,
    check: res => {
      const bundle = lookup(res, 'bundle')
      if (bundle === null || bundle === undefined) return null
      const mt = lookup(res, 'bundle.mediaType')
      return mt === BUNDLE_MEDIA_TYPE ? null : `bundle.mediaType is ${describe(mt)}`
    },
  },
  {
    label: 'ETag is "sha256:<64 hex>" (MI-034)',
    check: res => /^"sha256:[0-9a-f]{64}"$/.test(res.headers['etag'] ?? '') ? null : `ETag is ${describe(res.headers['etag'])}`,
  },
  {
    label: 'Cache-Control is not immutable (MI-035)',
    check: res => /immutable/i.test(res.headers['cache-control'] ?? '') ? `Cache-Control is "${res.headers['cache-control']}"` : null,
  },
  {
    label: 'ETag is the digest of the body bytes (MI-015)',
    check: res => {
      const etag = res.headers['etag']
      if (!etag) return 'no ETag'
      const actual = `sha256:${sha256Hex(res.bytes)}`
      return stripEtag(etag) === actual ? null : `ETag ${etag} but the body digest is ${actual}`
    },
  },
]

// ---------------------------------------------------------------- preparation

function segment(value: string): string {
  return encodeURIComponent(value).replace(/%3A/gi, ':')
}

function stepUrl(step: CoreStep, ctx: CoreContext, base: string): string {
  const parts = pathOf(step.item)
  const out = parts.map((p, i) => {
    switch (p) {
      case ':clientId': return segment(ctx.clientId ?? '')
      case ':deviceId': return segment(ctx.deviceId ?? ctx.clientId ?? '')
      case ':deploymentId': return segment(ctx.deploymentId ?? NO_DEPLOYMENT)
      case ':digest': return segment(parts[i - 1] === 'bundles' ? ctx.bundleDigest ?? ZERO_DIGEST : ctx.deploymentDigest ?? ZERO_DIGEST)
      default: return p
    }
  })
  return `${base.replace(/\/+$/, '')}/${out.join('/')}`
}

/** Headers of the item; like the suite's runner, a later duplicate wins and disabled entries are sent too. */
function itemHeaders(item: PostmanItem): Record<string, string> {
  const out: Record<string, string> = {}
  for (const h of item.request.header ?? []) out[h.key.toLowerCase()] = h.value
  return out
}

const status = (...codes: number[]) => codes

function expectationFor(step: CoreStep, ctx: CoreContext): Expectation {
  const hasBundle = ctx.bundleDigest !== undefined
  const hasDeployment = ctx.deploymentId !== undefined && ctx.deploymentDigest !== undefined
  const auth = (code: number): Expectation | undefined => {
    if (code === 400) return {statuses: status(400), checks: []}
    if (code === 401) return {statuses: status(401), checks: []}
    if (code === 403) return {statuses: status(401, 403), checks: []}
    if (code === 422) return {statuses: status(422), checks: []}
    return undefined
  }
  const conflict = (c: StepConflict | undefined) => (c ? {conflict: c} : {})
  switch (`${step.kind}:${step.code}`) {
    case 'ca:200': return {statuses: status(200), checks: [isString('certificate')]}
    case 'onboarding:201': return {statuses: status(201), checks: [isString('clientId')]}
    case 'onboarding:400': return {statuses: status(400), checks: []}
    case 'onboarding:403':
      // Under an allow-list a fresh certificate is refused, so 201 is a real failure there.
      return {statuses: status(401, 403), checks: [], ...conflict(ctx.enrollment === 'allowlist' ? undefined : {code: 'C10', specStatuses: [201]})}
    case 'capabilities-post:201': case 'capabilities-put:201': return {statuses: status(201), checks: []}
    case 'bundle:200': return {statuses: status(200, 404), checks: []}
    case 'bundle:304': return {statuses: status(304), checks: [], ...conflict(hasBundle ? undefined : {code: 'C6', specStatuses: [404]})}
    case 'bundle:400': return {statuses: status(400), checks: [], conflict: hasBundle ? {code: 'C24', specStatuses: [200]} : {code: 'C17', specStatuses: [404]}}
    case 'bundle:404': return {statuses: status(404), checks: [], ...conflict(hasBundle ? {code: 'C24', specStatuses: [200]} : undefined)}
    case 'deployments:200': case 'no-accept:200': return {statuses: status(200), checks: MANIFEST_CHECKS}
    case 'deployments:304': return {statuses: status(304), checks: []}
    case 'deployments:406': return {statuses: status(406), checks: []}
    case 'yaml:200': return {statuses: status(200, 404), checks: []}
    case 'yaml:404': return {statuses: status(404), checks: [], ...conflict(hasDeployment ? {code: 'C24', specStatuses: [200]} : undefined)}
    case 'status:200':
      return {statuses: status(200, 400, 404), checks: [], ...conflict(hasDeployment ? undefined : {code: 'C26', specStatuses: [422]})}
    case 'invalid-deployment-types:422': case 'invalid-runtimes:422':
      return {statuses: status(422), checks: [], conflict: {code: 'C13', specStatuses: [404, 405]}}
  }
  if (['capabilities-post', 'capabilities-put', 'status'].includes(step.kind)) {
    const e = auth(step.code)
    if (e) return e
  }
  return {statuses: [step.code], checks: []}
}

function signingFor(step: CoreStep): CoreSigning {
  if (step.kind === 'ca') return 'none'
  if (step.kind === 'onboarding') return step.code === 400 ? 'none' : step.code === 403 ? 'fresh' : 'own'
  if (['capabilities-post', 'capabilities-put', 'status'].includes(step.kind)) {
    if (step.code === 400) return 'own-no-digest'
    if (step.code === 401) return 'own-flipped'
    if (step.code === 403) return 'stranger'
  }
  return 'own'
}

/** The request, how to sign it and what to expect, for one step in the current context. */
export function prepareCoreStep(step: CoreStep, ctx: CoreContext, env: CoreEnv): PreparedCoreStep {
  const url = stepUrl(step, ctx, env.baseUrl)
  const method = step.item.request.method.toUpperCase()
  const headers = step.kind === 'no-accept' ? {} : itemHeaders(step.item)
  let body: unknown
  const deviceId = ctx.deviceId ?? ctx.clientId ?? ''
  const deploymentId = ctx.deploymentId ?? NO_DEPLOYMENT

  switch (step.kind) {
    case 'onboarding': {
      const certificate = step.code === 400 ? `INVALID_NOT_A_PEM_CERTIFICATE-${env.nonce}` : step.code === 403 ? env.freshCertificate : env.ownCertificate
      body = {apiVersion: 'onboarding.margo.org/v1alpha1', kind: 'OnboardingRequest', certificate}
      break
    }
    case 'capabilities-post': case 'capabilities-put':
      body = coreCapabilitiesBody(deviceId, step.code === 422 ? ['__invalid_deployment_type__'] : ['helm', 'compose'])
      break
    case 'status':
      body = step.code === 422 ? invalidStatusBody(deploymentId) : statusBody(step.item, deploymentId)
      break
    case 'invalid-deployment-types': case 'invalid-runtimes':
      body = JSON.parse((step.item.request.body?.raw ?? '{}').replaceAll('{deviceId}', deviceId))
      break
  }
  if (step.code === 304) headers['if-none-match'] = '*'
  if (step.kind === 'deployments' && step.code === 406) headers['accept'] = 'text/plain'
  if (body !== undefined) headers['content-type'] = 'application/json'

  return {
    request: {method, url, headers, ...(body !== undefined ? {body: JSON.stringify(body)} : {})},
    signing: signingFor(step),
    expectation: expectationFor(step, ctx),
  }
}

/** What a step's answer adds to the context (the client from onboarding, ids and digests from the manifest). */
export function extractCore(step: CoreStep, res: WireResponse, ctx: CoreContext): CoreContext {
  if (step.kind === 'onboarding' && step.code === 201 && res.status === 201) {
    const clientId = lookup(res, 'clientId')
    if (typeof clientId === 'string' && clientId !== '') return {...ctx, clientId, deviceId: clientId}
  }
  if (step.kind === 'deployments' && step.code === 200 && res.status === 200) {
    const next = {...ctx}
    const deploymentId = lookup(res, 'deployments.0.deploymentId')
    const deploymentDigest = lookup(res, 'deployments.0.digest')
    const bundleDigest = lookup(res, 'bundle.digest')
    if (typeof deploymentId === 'string' && deploymentId) next.deploymentId = deploymentId
    if (typeof deploymentDigest === 'string' && deploymentDigest) next.deploymentDigest = deploymentDigest
    if (typeof bundleDigest === 'string' && bundleDigest) next.bundleDigest = bundleDigest
    return next
  }
  return ctx
}
