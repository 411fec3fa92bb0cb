/**
 * The device-supplier scenarios of the Margo conformance material (7 scenarios, 43 steps),
 * interpreted by our own runner: step fields, `{placeholders}` from the scenario context,
 * certificate injection, validations, context extraction, and the client-side manifest checks
 * (`expect_manifest_accepted` / `expect_manifest_rejected`). Pure: the runner signs and sends.
 */
import type {WireRequest, WireResponse} from '../common/exchange.ts'
import {lookup} from '../common/exchange.ts'
import type {Check, Expectation} from './evaluate.ts'

export const DEVICE_SCENARIOS = 'conformance/device-supplier/device-scenarios/test-scenarios.json'

export interface Validation {field: string, operation: string, value?: unknown}

export interface ScenarioStep {
  id: string
  name: string
  crIds?: string[]
  method: string
  endpoint: string
  request_body?: unknown
  headers?: Record<string, string>
  skip_signing?: boolean
  skip_certificate_injection?: boolean
  expected_status: number
  validations?: Validation[]
  extract_context?: Record<string, string>
  expect_manifest_rejected?: boolean
  expect_manifest_accepted?: boolean
  signing_key?: string
  signing_algorithm?: string
  verify_tls?: boolean
  expect_transport_error?: boolean
  mtls?: boolean
}

export interface Scenario {
  id: string
  name: string
  description?: string
  crIds?: string[]
  signing_key?: string
  signing_algorithm?: string
  steps: ScenarioStep[]
}

/** Set-ups a step needs from the WFM that only its operator can arrange. */
export type Precondition = 'default-deployment' | 'deny-list'

export const PRECONDITION_TEXT: Record<Precondition, string> = {
  'default-deployment': 'every new client starts with at least one deployment',
  'deny-list': 'the WFM refuses the suite\'s deny-listed certificate value at onboarding',
}

export type ScenarioContext = Record<string, string>

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g

export function isOnboarding(step: ScenarioStep): boolean {
  return step.method.toUpperCase() === 'POST' && /\/api\/v1\/onboarding$/.test(step.endpoint)
}

function certificateLiteral(step: ScenarioStep): string | undefined {
  const cert = (step.request_body as {certificate?: unknown} | undefined)?.certificate
  return typeof cert === 'string' ? cert : undefined
}

function isCertificatePath(value: string): boolean {
  return value.startsWith('./') || value.startsWith('certs/')
}

/** Literal certificate values the scenarios expect to be refused with 403: the WFM's deny-list must hold them. */
export function denyListValues(scenarios: readonly Scenario[]): string[] {
  const out = new Set<string>()
  for (const s of scenarios) {
    for (const step of s.steps) {
      const cert = certificateLiteral(step)
      if (isOnboarding(step) && step.expected_status === 403 && cert && !isCertificatePath(cert)) out.add(cert)
    }
  }
  return [...out]
}

/** A step that reads the first deployment or the bundle out of a manifest needs the client to have one. */
export function stepPreconditions(step: ScenarioStep): Precondition[] {
  const out: Precondition[] = []
  const fields = [...(step.validations ?? []).map(v => v.field), ...Object.values(step.extract_context ?? {})]
  if (fields.some(f => /^(deployments\.0|bundle)(\.|$)/.test(f))) out.push('default-deployment')
  const cert = certificateLiteral(step)
  if (isOnboarding(step) && step.expected_status === 403 && cert && !isCertificatePath(cert)) out.push('deny-list')
  return out
}

/** Fields this runner does not implement; such steps are reported SKIPPED rather than guessed. */
export function unsupportedFields(step: ScenarioStep, scenario: Scenario): string[] {
  const out: string[] = []
  if (step.signing_key ?? scenario.signing_key) out.push('signing_key')
  if (step.verify_tls) out.push('verify_tls')
  if (step.expect_transport_error) out.push('expect_transport_error')
  if (step.mtls) out.push('mtls')
  return out
}

/** `{name}` replaced from the context; names the context lacks are reported, not left in. */
export function substitute(text: string, ctx: ScenarioContext, missing: Set<string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    if (Object.hasOwn(ctx, name)) return ctx[name]!
    missing.add(name)
    return whole
  })
}

function substituteDeep(value: unknown, ctx: ScenarioContext, missing: Set<string>): unknown {
  if (typeof value === 'string') return substitute(value, ctx, missing)
  if (Array.isArray(value)) return value.map(v => substituteDeep(v, ctx, missing))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteDeep(v, ctx, missing)]))
  }
  return value
}

function show(v: unknown): string {
  if (v === undefined) return 'missing'
  const s = typeof v === 'string' ? `"${v}"` : JSON.stringify(v)
  return s.length > 80 ? `${s.slice(0, 80)}…` : s
}

function looselyEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || a === undefined || b === undefined) return false
  if (typeof a !== 'object' && typeof b !== 'object') return String(a) === String(b)
  return JSON.stringify(a) === JSON.stringify(b)
}

/** One validation of the scenario format as a check; unknown operations fail with a clear message. */
export function validationCheck(v: Validation, conflicting = false): Check {
  const label = `${v.field} ${v.operation}${v.value !== undefined ? ` ${show(v.value)}` : ''}`
  const check = (res: WireResponse): string | null => {
    const actual = lookup(res, v.field)
    const bad = `${v.field} is ${show(actual)}`
    switch (v.operation) {
      case 'equals': return looselyEqual(actual, v.value) ? null : `${bad}, not ${show(v.value)}`
      case 'exists': return actual !== undefined && actual !== null ? null : `${v.field} is missing`
      case 'not_empty': {
        const empty = actual === undefined || actual === null || actual === ''
          || (Array.isArray(actual) && actual.length === 0)
          || (typeof actual === 'object' && actual !== null && !Array.isArray(actual) && Object.keys(actual).length === 0)
        return empty ? `${bad} (empty)` : null
      }
      case 'is_string': return typeof actual === 'string' ? null : `${bad}, not a string`
      case 'is_number': return typeof actual === 'number' ? null : `${bad}, not a number`
      case 'is_array': return Array.isArray(actual) ? null : `${bad}, not an array`
      case 'is_object': return actual !== null && typeof actual === 'object' && !Array.isArray(actual) ? null : `${bad}, not an object`
      case 'contains':
        if (typeof actual === 'string') return actual.includes(String(v.value)) ? null : `${bad}, does not contain ${show(v.value)}`
        if (Array.isArray(actual)) return actual.some(a => looselyEqual(a, v.value)) ? null : `${bad}, does not contain ${show(v.value)}`
        return `${bad}, cannot contain ${show(v.value)}`
      default: return `unknown validation operation "${v.operation}"`
    }
  }
  return {label, check, ...(conflicting ? {conflicting: true} : {})}
}

/** Capabilities and status reports have no success body in the specification (conflict C16). */
function successBodyUndefined(step: ScenarioStep): boolean {
  return step.expected_status >= 200 && step.expected_status < 300
    && ['POST', 'PUT'].includes(step.method.toUpperCase())
    && /\/(capabilities|status)$/.test(step.endpoint)
}

export interface ScenarioEnv {
  baseUrl: string
  /** base64 of the PEM of the run's device certificate. */
  certificate: string
}

export type PreparedScenarioStep =
  | {kind: 'ready', request: WireRequest, sign: boolean, afterSigning: Record<string, string>, expectation: Expectation}
  | {kind: 'unresolved', missing: string[]}

export function prepareScenarioStep(step: ScenarioStep, ctx: ScenarioContext, env: ScenarioEnv): PreparedScenarioStep {
  const missing = new Set<string>()
  const endpoint = substitute(step.endpoint, ctx, missing)
  let body = step.request_body === undefined ? undefined : substituteDeep(step.request_body, ctx, missing)
  if (body && typeof body === 'object' && !Array.isArray(body) && !step.skip_certificate_injection) {
    const cert = (body as Record<string, unknown>).certificate
    if (typeof cert === 'string' && isCertificatePath(cert)) body = {...body, certificate: env.certificate}
  }
  const afterSigning: Record<string, string> = {}
  for (const [k, v] of Object.entries(step.headers ?? {})) afterSigning[k.toLowerCase()] = substitute(v, ctx, missing)
  const conflicting = successBodyUndefined(step)
  const validations = (step.validations ?? []).map(v => ({
    ...v, ...(typeof v.value === 'string' ? {value: substitute(v.value, ctx, missing)} : {}),
  }))
  if (missing.size > 0) return {kind: 'unresolved', missing: [...missing]}

  const checks = validations.map(v => validationCheck(v, conflicting && !v.field.startsWith('_headers.')))
  return {
    kind: 'ready',
    request: {
      method: step.method.toUpperCase(),
      url: `${env.baseUrl.replace(/\/+$/, '')}${endpoint}`,
      headers: {'content-type': 'application/json'},
      ...(body !== undefined ? {body: JSON.stringify(body)} : {}),
    },
    sign: !step.skip_signing,
    afterSigning,
    expectation: {
      statuses: [step.expected_status],
      checks,
      ...(conflicting && checks.some(c => c.conflicting) ? {conflict: {code: 'C16' as const, bodyOnly: true}} : {}),
    },
  }
}

/** Context values a step's answer provides. */
export function extractScenario(step: ScenarioStep, res: WireResponse, ctx: ScenarioContext): ScenarioContext {
  const next = {...ctx}
  for (const [name, field] of Object.entries(step.extract_context ?? {})) {
    const v = lookup(res, field)
    if (v === undefined || v === null) continue
    next[name] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)
  }
  return next
}

// ---------------------------------------------------------------- client-side manifest checks

export interface ManifestReview {
  /** Problems found in the manifest itself (version order, digest algorithm, shape). */
  problems: string[]
  /** Artifacts to download and compare with their digests. */
  artifacts: {url: string, digest: string}[]
  manifestVersion?: number
}

/**
 * What a careful device checks before it accepts a manifest: a `manifestVersion` above the last
 * one accepted (MI-010) and `sha256:` digests (MI-008); the artifact downloads come next.
 */
export function reviewManifest(manifest: unknown, lastAccepted: number | undefined): ManifestReview {
  const problems: string[] = []
  const artifacts: {url: string, digest: string}[] = []
  if (!manifest || typeof manifest !== 'object') return {problems: ['the manifest is not a JSON object'], artifacts}
  const m = manifest as {manifestVersion?: unknown, bundle?: unknown, deployments?: unknown}
  const version = typeof m.manifestVersion === 'number' ? m.manifestVersion : undefined
  if (version === undefined) problems.push('manifestVersion is not a number')
  else if (lastAccepted !== undefined && version <= lastAccepted) problems.push(`manifestVersion ${version} is not above the last accepted ${lastAccepted}`)
  const refs: unknown[] = []
  if (m.bundle !== null && m.bundle !== undefined) refs.push(m.bundle)
  if (Array.isArray(m.deployments)) refs.push(...m.deployments)
  else problems.push('deployments is not an array')
  for (const ref of refs) {
    const r = ref as {digest?: unknown, url?: unknown}
    if (typeof r.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(r.digest)) problems.push(`digest ${show(r.digest)} is not sha256:<64 hex>`)
    else if (typeof r.url !== 'string' || r.url === '') problems.push(`no url for ${r.digest}`)
    else artifacts.push({url: r.url, digest: r.digest})
  }
  return {problems, artifacts, ...(version !== undefined ? {manifestVersion: version} : {})}
}

/** Manifest URLs are relative to the base URL, prefix included (they are appended, not RFC 3986-resolved). */
export function artifactUrl(baseUrl: string, url: string): string {
  if (/^https?:\/\//i.test(url)) return url
  return `${baseUrl.replace(/\/+$/, '')}${url.startsWith('/') ? '' : '/'}${url}`
}
