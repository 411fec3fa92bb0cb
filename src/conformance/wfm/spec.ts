/**
 * The `spec` suite: margo's own checks of a WFM's device interface, written from the
 * specification's compliance checklist (spec §8.1), each step named by its rule (WFM-nn). It
 * needs no third-party material. It runs in two parts: `early` with a client that has never
 * been seen (onboarding, signatures, capabilities, the empty manifest), and `late` with a
 * client onboarded after a deployment for every device was arranged (YAML, bundle, status).
 */
import {X509Certificate} from 'node:crypto'
import canonicalize from 'canonicalize'
import {parse as parseYaml} from 'yaml'
import {readBundle} from '../../agent/sync/bundle.ts'
import {parseApplicationDeployment} from '../../margo/deployment.ts'
import {DIGEST_PATTERN, sha256Digest} from '../../margo/digest.ts'
import type {StateManifest} from '../../margo/manifest.ts'
import {BUNDLE_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, YAML_MEDIA_TYPE} from '../../margo/media-types.ts'
import {certificateToBase64Der} from '../../pki/index.ts'
import {recordRequest, recordResponse, type WireRequest, type WireResponse} from '../common/exchange.ts'
import type {DeviceIdentity} from '../common/identity.ts'
import {suiteReport, type StepResult, type SuiteReport} from '../common/report.ts'
import {flipSignatureByte, signWire} from '../common/signing.ts'
import {httpSender, TransportError, type Send} from '../common/transport.ts'

export const SPEC_SUITE = 'spec'

/** Every check of the suite by its id: the rule number, then a running number when a rule has several checks. */
export const SPEC_CHECKS: Readonly<Record<string, string>> = {
  'WFM-04': 'GET /onboarding/certificate is unauthenticated and answers 200 {"certificate": base64 DER of the root CA}',
  'WFM-03': 'the server certificate chains to the CA published at /onboarding/certificate',
  'WFM-05': 'an OnboardingRequest without certificate gets 400',
  'WFM-06.1': 'an OnboardingRequest with a malformed certificate gets 400',
  'WFM-08': 'onboarding signed with a key other than the submitted certificate\'s gets 401',
  'WFM-06.2': 'a signed OnboardingRequest (base64 DER certificate) gets 201 {"clientId"}',
  'WFM-07.1': 'the clientId is URL-safe (RFC 3986 unreserved characters)',
  'WFM-17.1': 'POST capabilities with a valid DeviceCapabilitiesManifest gets 201',
  'WFM-17.2': 'PUT capabilities with a valid DeviceCapabilitiesManifest gets 201',
  'WFM-17.3': 'capabilities with an invalid role (a semantic error) get 422',
  'WFM-13.1': 'an unsigned manifest request gets 401',
  'WFM-13.2': 'capabilities with one flipped signature byte get 401',
  'WFM-14.1': 'capabilities without Content-Digest (signed without it) get 400',
  'WFM-14.2': 'capabilities whose signed Content-Digest does not match the body get 400',
  'WFM-16.1': 'a signature created a day ago gets 401',
  'WFM-16.2': 'a signature created an hour in the future gets 401',
  'WFM-11.1': 'a request on a real clientId signed by a key the WFM never onboarded is refused',
  'WFM-11.2': 'a signed request for a clientId the WFM never issued gets 404 (§9 A23)',
  'WFM-20': 'the manifest answers 200, application/vnd.margo.manifest.v1+json, {manifestVersion, bundle, deployments}',
  'WFM-22': 'the manifest ETag is the quoted sha256 of exactly the body bytes',
  'WFM-24': 'the manifest is never immutable and has no long max-age',
  'WFM-25': 'the manifest is RFC 8785 canonical JSON',
  'WFM-26': 'a new client\'s first manifest has manifestVersion 1',
  'WFM-28.1': 'bundle is present, and null exactly when deployments is empty',
  'WFM-21.1': 'a manifest request without Accept gets the manifest',
  'WFM-21.2': 'a manifest request accepting only text/plain gets 406',
  'WFM-23': 'If-None-Match with the current ETag gets 304 with no body',
  'WFM-07.2': 'a second device gets another clientId',
  'WFM-28.2': 'with deployments, bundle is present and not null',
  'WFM-30': 'bundle.url and deployments[].url name the clientId, deploymentId and digest',
  'WFM-32.1': 'every digest is sha256: plus 64 lowercase hex digits',
  'WFM-32.2': 'every deployment YAML is served with exactly the bytes of its digest',
  'WFM-31': 'each deployments[].deploymentId equals its YAML\'s metadata.annotations.id',
  'WFM-32.3': 'the bundle is served with exactly the bytes of its digest',
  'WFM-29': `bundle.mediaType is ${BUNDLE_MEDIA_TYPE} and the archive holds exactly the referenced YAMLs at its root`,
  'WFM-34': 'YAML and bundle answers carry ETag = the quoted digest from the URL',
  'WFM-35': 'YAML and bundle answers are cached as public|private, max-age=31536000, immutable',
  'WFM-37': 'YAMLs are served as application/yaml and the bundle as bundle.mediaType',
  'WFM-36.1': 'a deployment YAML under a digest the WFM does not have gets 404',
  'WFM-36.2': 'a bundle under a digest the WFM does not have gets 404',
  'WFM-39.1': 'a valid DeploymentStatusManifest gets 200',
  'WFM-39.2': 'a status report with an invalid state (a semantic error) gets 422',
  'WFM-51': 'a client cannot read another client\'s manifest',
}

/** A check's finding: the problems (none when it holds) and what was seen. */
export interface Finding {
  got: string
  problems: string[]
}

const onboardingBody = (certificate: string) => JSON.stringify({apiVersion: 'onboarding.margo.org/v1alpha1', kind: 'OnboardingRequest', certificate})

/** A DeviceCapabilitiesManifest of the G1 shape; `role` lets a check send an invalid enum. */
export function capabilitiesBody(clientId: string, role = 'Standalone Device'): string {
  return JSON.stringify({
    apiVersion: 'device.margo.org/v1alpha1',
    kind: 'DeviceCapabilitiesManifest',
    properties: {
      id: clientId, vendor: 'margo conformance', modelNumber: 'spec-suite', serialNumber: `SN-${clientId}`, roles: [role],
      resources: {cpu: {cores: 2, architecture: 'amd64'}, memory: '2Gi', storage: '16Gi', peripherals: [], interfaces: [{type: 'ethernet'}]},
    },
  })
}

export function statusBody(deploymentId: string, state: string, components: readonly string[]): string {
  return JSON.stringify({
    apiVersion: 'deployment.margo.org/v1alpha1', kind: 'DeploymentStatusManifest', deploymentId,
    status: {state}, components: components.map(name => ({name, state})),
  })
}

/** The lowercase hex SHA-256 of the certificate's DER: the keyid spec §5.3 recommends for onboarding. */
export function certificateKeyId(certPem: string): string {
  return sha256Digest(new Uint8Array(new X509Certificate(certPem).raw)).slice('sha256:'.length)
}

function status(res: WireResponse, expected: readonly number[]): string[] {
  return expected.includes(res.status) ? [] : [`expected status ${expected.join(' or ')}, got ${res.status}`]
}

function mediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase()
}

/** WFM-04: the root CA, unauthenticated, as `{"certificate": "<base64 DER>"}`; returns the CA's PEM when readable. */
export function caDownloadFinding(res: WireResponse): Finding & {caPem?: string} {
  const problems = status(res, [200])
  if (problems.length) return {got: String(res.status), problems}
  const certificate = (res.json as {certificate?: unknown} | undefined)?.certificate
  if (typeof certificate !== 'string' || certificate === '') return {got: '200, no certificate member', problems: ['the body has no "certificate" string']}
  let cert: X509Certificate
  try {
    cert = new X509Certificate(Buffer.from(certificate, 'base64'))
  } catch {
    return {got: '200, certificate unreadable', problems: ['"certificate" is not base64 of an X.509 DER certificate']}
  }
  return {got: `200, ${cert.subject.replace(/\n/g, ', ')}`, problems: cert.ca ? [] : ['the certificate is not a CA certificate'], caPem: cert.toString()}
}

/** WFM-20: status, media type and the three members of a State Manifest. */
export function manifestFinding(res: WireResponse): Finding {
  const problems = status(res, [200])
  if (problems.length) return {got: String(res.status), problems}
  if (mediaType(res.headers['content-type']) !== MANIFEST_MEDIA_TYPE) problems.push(`Content-Type is ${JSON.stringify(res.headers['content-type'] ?? null)}, not ${MANIFEST_MEDIA_TYPE}`)
  const body = res.json as Record<string, unknown> | undefined
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {got: '200, body is not a JSON object', problems: [...problems, 'the body is not a JSON object']}
  for (const key of ['manifestVersion', 'bundle', 'deployments']) if (!(key in body)) problems.push(`the body has no ${key}`)
  if ('manifestVersion' in body && !(Number.isSafeInteger(body.manifestVersion) && (body.manifestVersion as number) >= 1)) problems.push('manifestVersion is not a positive integer')
  if ('deployments' in body && !Array.isArray(body.deployments)) problems.push('deployments is not an array')
  return {got: `200, manifestVersion ${String(body.manifestVersion)}, ${Array.isArray(body.deployments) ? body.deployments.length : '?'} deployments`, problems}
}

/** WFM-22: a strong ETag, the quoted `sha256:<hex>` of exactly the body bytes. */
export function manifestEtagFinding(res: WireResponse): Finding {
  const etag = res.headers['etag']
  const want = `"${sha256Digest(res.bytes)}"`
  return {got: `ETag ${etag ?? 'absent'}`, problems: etag === want ? [] : [`ETag should be ${want}`]}
}

/** WFM-24: never immutable, no long max-age (more than five minutes counts as long). */
export function manifestCachingFinding(res: WireResponse): Finding {
  const cc = res.headers['cache-control'] ?? ''
  const problems: string[] = []
  if (/\bimmutable\b/i.test(cc)) problems.push('Cache-Control says immutable')
  const maxAge = /\bmax-age=(\d+)/i.exec(cc)
  if (maxAge && Number(maxAge[1]) > 300) problems.push(`Cache-Control max-age is ${maxAge[1]} s`)
  return {got: `Cache-Control ${cc ? JSON.stringify(cc) : 'absent'}`, problems}
}

/** WFM-25: the body is RFC 8785 canonical JSON of itself. */
export function canonicalFinding(res: WireResponse): Finding {
  if (res.json === undefined) return {got: 'not JSON', problems: ['the body is not JSON']}
  const canonical = canonicalize(res.json)
  return canonical === res.text ? {got: 'canonical', problems: []} : {got: 'not canonical', problems: ['the body differs from its RFC 8785 serialization (key order, whitespace or number form)']}
}

/** WFM-28: `bundle` is present, and null exactly when there are no deployments. */
export function bundlePresenceFinding(manifest: Partial<StateManifest>): Finding {
  const deployments = Array.isArray(manifest.deployments) ? manifest.deployments.length : 0
  const got = `${deployments} deployments, bundle ${manifest.bundle === null ? 'null' : manifest.bundle === undefined ? 'absent' : 'present'}`
  if (!('bundle' in manifest)) return {got, problems: ['the manifest has no bundle member']}
  if (deployments === 0 && manifest.bundle !== null) return {got, problems: ['bundle must be null when deployments is empty']}
  if (deployments > 0 && manifest.bundle === null) return {got, problems: ['bundle must not be null when there are deployments']}
  return {got, problems: []}
}

/** WFM-30 and WFM-32 for one manifest: content-addressed URLs and well-formed digests. */
export function referenceFindings(manifest: StateManifest, clientId: string): {urls: Finding, digests: Finding} {
  const urls: string[] = []
  const digests: string[] = []
  const base = `/api/v1/clients/${encodeURIComponent(clientId)}`
  const url = (what: string, actual: string, want: string) => { if (!actual.endsWith(want)) urls.push(`${what} url is ${actual}, not ${want}`) }
  if (manifest.bundle) {
    if (!DIGEST_PATTERN.test(manifest.bundle.digest)) digests.push(`bundle digest ${manifest.bundle.digest} is not sha256: and 64 lowercase hex digits`)
    url('bundle', manifest.bundle.url, `${base}/bundles/${manifest.bundle.digest}`)
  }
  for (const d of manifest.deployments) {
    if (!DIGEST_PATTERN.test(d.digest)) digests.push(`deployment ${d.deploymentId} digest ${d.digest} is not sha256: and 64 lowercase hex digits`)
    url(`deployment ${d.deploymentId}`, d.url, `${base}/deployments/${encodeURIComponent(d.deploymentId)}/${d.digest}`)
  }
  const n = manifest.deployments.length + (manifest.bundle ? 1 : 0)
  return {urls: {got: `${n} urls`, problems: urls}, digests: {got: `${n} digests`, problems: digests}}
}

/** WFM-34/35/37 for an artifact answer: ETag = quoted digest, immutable caching, media type. */
export function artifactHeaderFindings(res: WireResponse, digest: string, type: string): {etag: Finding, caching: Finding, mediaType: Finding} {
  const etag = res.headers['etag']
  const cc = res.headers['cache-control'] ?? ''
  const ct = res.headers['content-type']
  return {
    etag: {got: `ETag ${etag ?? 'absent'}`, problems: etag === `"${digest}"` ? [] : [`ETag should be "${digest}"`]},
    caching: {got: `Cache-Control ${cc ? JSON.stringify(cc) : 'absent'}`, problems: /^\s*(public|private)\s*,\s*max-age=31536000\s*,\s*immutable\s*$/i.test(cc) ? [] : ['Cache-Control should be public|private, max-age=31536000, immutable']},
    mediaType: {got: `Content-Type ${ct ?? 'absent'}`, problems: mediaType(ct) === type ? [] : [`Content-Type should be ${type}`]},
  }
}

/** The components an ApplicationDeployment names, for a status report that fits it. */
function componentNames(yaml: string): string[] {
  const parsed = parseApplicationDeployment(yaml)
  return parsed.ok ? parsed.value.spec.deploymentProfile.components.map(c => c.name) : []
}

function annotationId(yaml: string): unknown {
  try {
    return (parseYaml(yaml) as {metadata?: {annotations?: {id?: unknown}}} | null)?.metadata?.annotations?.id
  } catch {
    return undefined
  }
}

export interface SpecRunOptions {
  baseUrl: string
  send: Send
  /** The client of the early part: new to the WFM unless the keys were given. */
  early: DeviceIdentity
  /** The client of the late part, onboarded once every device gets a deployment. */
  late: DeviceIdentity
  /** Keys the WFM has never seen; never onboarded. */
  stranger: DeviceIdentity
  /** The run signs with given keys (--key): the clients may not be new. */
  givenKeys: boolean
  emit: (step: StepResult) => void
  /** How long the late client waits for its deployment to show up. */
  deploymentWaitMs?: number
  /** A sender that trusts only the given CA (WFM-03); by default fetch with exactly that CA. */
  sendTrusting?: (caPem: string) => Send
}

interface Exchange {req: WireRequest, res: WireResponse}

/** A request that got no HTTP answer, with the request as sent (for the report). */
class NoAnswer extends Error {
  constructor(readonly req: WireRequest, override readonly cause: TransportError) {
    super(cause.message)
  }
}

interface CallOptions {
  body?: string
  headers?: Record<string, string>
  /** `none` sends no signature; `flipped` breaks one; `no-digest` leaves Content-Digest out. */
  signing?: 'ok' | 'none' | 'flipped' | 'no-digest'
  /** Sign with this key instead of the caller's (the keyid still names the caller). */
  keyOf?: DeviceIdentity
  created?: number
  contentDigest?: string
}

/** One run of the spec suite; `early`, then `late`, then `report`. */
export class SpecRun {
  private readonly results: StepResult[] = []
  private earlyClientId: string | undefined

  constructor(private readonly o: SpecRunOptions) {}

  report(): SuiteReport {
    return suiteReport(SPEC_SUITE, this.results)
  }

  private push(step: StepResult): void {
    this.results.push(step)
    this.o.emit(step)
  }

  private record(id: string, expected: string, finding: Finding, exchange?: Exchange): boolean {
    const ok = finding.problems.length === 0
    this.push({
      suite: SPEC_SUITE, id, name: SPEC_CHECKS[id]!, expected, got: finding.got, result: ok ? 'PASS' : 'FAIL',
      ...(ok ? {} : {reason: finding.problems.join('; ')}),
      ...(!ok && exchange ? {request: recordRequest(exchange.req), response: recordResponse(exchange.res)} : {}),
    })
    return ok
  }

  private skip(id: string, expected: string, reason: string): void {
    this.push({suite: SPEC_SUITE, id, name: SPEC_CHECKS[id]!, expected, got: '-', result: 'SKIPPED', reason})
  }

  private skipEach(ids: readonly string[], reason: string): void {
    for (const id of ids) this.skip(id, '-', reason)
  }

  private async call(who: DeviceIdentity | null, keyId: string, method: string, path: string, options: CallOptions = {}): Promise<Exchange> {
    const headers: Record<string, string> = {...(options.body !== undefined ? {'content-type': 'application/json'} : {}), ...options.headers}
    let req: WireRequest = {method, url: `${this.o.baseUrl}${path}`, headers, ...(options.body !== undefined ? {body: options.body} : {})}
    const signing = options.signing ?? 'ok'
    if (who && signing !== 'none') {
      const signer = options.keyOf ? {...who, privateKey: options.keyOf.privateKey, alg: options.keyOf.alg} : who
      req = await signWire(req, signer, 'spec', {
        keyId, omitDigest: signing === 'no-digest',
        ...(options.created !== undefined ? {created: options.created} : {}),
        ...(options.contentDigest !== undefined ? {contentDigest: options.contentDigest} : {}),
      })
      if (signing === 'flipped') req = {...req, headers: flipSignatureByte(req.headers)}
    }
    try {
      return {req, res: await this.o.send(req)}
    } catch (err) {
      if (err instanceof TransportError) throw new NoAnswer(req, err)
      throw err
    }
  }

  /** Sends, judges with `judge`, records; a request that gets no answer is a FAIL. Returns the exchange when there was one. */
  private async step(id: string, expected: string, send: () => Promise<Exchange>, judge: (res: WireResponse) => Finding): Promise<Exchange | undefined> {
    let exchange: Exchange
    try {
      exchange = await send()
    } catch (err) {
      if (!(err instanceof NoAnswer)) throw err
      this.push({suite: SPEC_SUITE, id, name: SPEC_CHECKS[id]!, expected, result: 'FAIL', got: `no answer (${err.cause.code})`, reason: err.cause.message, request: recordRequest(err.req)})
      return undefined
    }
    this.record(id, expected, judge(exchange.res), exchange)
    return exchange
  }

  private expectStatus(...codes: number[]): (res: WireResponse) => Finding {
    return res => ({got: String(res.status), problems: status(res, codes)})
  }

  /** Onboards `who` with its certificate as base64 DER, signed with its own key; the clientId or undefined. */
  private async onboard(who: DeviceIdentity): Promise<{exchange?: Exchange, clientId?: string}> {
    const body = onboardingBody(certificateToBase64Der(who.certPem))
    try {
      const exchange = await this.call(who, certificateKeyId(who.certPem), 'POST', '/api/v1/onboarding', {body})
      const clientId = (exchange.res.json as {clientId?: unknown} | undefined)?.clientId
      return {exchange, ...(exchange.res.status === 201 && typeof clientId === 'string' && clientId !== '' ? {clientId} : {})}
    } catch (err) {
      if (!(err instanceof NoAnswer)) throw err
      return {}
    }
  }

  async early(): Promise<void> {
    const {early: me, stranger, baseUrl} = this.o
    const ca = await this.step('WFM-04', '200, a CA certificate',
      () => this.call(null, '', 'GET', '/api/v1/onboarding/certificate', {headers: {accept: 'application/json'}}), caDownloadFinding)
    const caPem = ca ? caDownloadFinding(ca.res).caPem : undefined
    if (!baseUrl.startsWith('https:')) this.skip('WFM-03', 'TLS verifies with that CA alone', 'the base URL is http://, there is no server certificate')
    else if (!caPem) this.skip('WFM-03', 'TLS verifies with that CA alone', 'WFM-04 gave no CA certificate')
    else {
      const onlyThatCa = (this.o.sendTrusting ?? (pem => httpSender({ca: pem})))(caPem)
      const req: WireRequest = {method: 'GET', url: `${baseUrl}/api/v1/onboarding/certificate`, headers: {accept: 'application/json'}}
      try {
        const res = await onlyThatCa(req)
        this.record('WFM-03', 'TLS verifies with that CA alone', {got: `verified (${res.status})`, problems: []})
      } catch (err) {
        if (!(err instanceof TransportError)) throw err
        this.record('WFM-03', 'TLS verifies with that CA alone', {got: `not verified (${err.code})`, problems: [err.message]})
      }
    }

    const ownCert = certificateToBase64Der(me.certPem)
    const ownKeyId = certificateKeyId(me.certPem)
    await this.step('WFM-05', '400',
      () => this.call(null, '', 'POST', '/api/v1/onboarding', {body: JSON.stringify({apiVersion: 'onboarding.margo.org/v1alpha1', kind: 'OnboardingRequest'})}), this.expectStatus(400))
    await this.step('WFM-06.1', '400',
      () => this.call(me, ownKeyId, 'POST', '/api/v1/onboarding', {body: onboardingBody(Buffer.from('not a certificate').toString('base64'))}), this.expectStatus(400))
    await this.step('WFM-08', '401',
      () => this.call(me, ownKeyId, 'POST', '/api/v1/onboarding', {body: onboardingBody(ownCert), keyOf: stranger}), this.expectStatus(401))

    const {exchange, clientId} = await this.onboard(me)
    if (!exchange) this.record('WFM-06.2', '201', {got: 'no answer', problems: ['onboarding got no answer']})
    else this.record('WFM-06.2', '201, clientId', clientId ? {got: `201, clientId ${clientId}`, problems: []} : {got: String(exchange.res.status), problems: [`expected 201 with a clientId, got ${exchange.res.status}`]}, exchange)
    const after = 'needs the clientId of WFM-06.2, which did not succeed'
    if (!clientId) {
      this.skipEach(EARLY_AFTER_ONBOARDING, after)
      return
    }
    this.earlyClientId = clientId
    this.record('WFM-07.1', 'unreserved characters only', /^[A-Za-z0-9._~-]+$/.test(clientId) ? {got: clientId, problems: []} : {got: clientId, problems: ['the clientId has characters that need percent-encoding']})

    const base = `/api/v1/clients/${encodeURIComponent(clientId)}`
    const manifestHeaders = {accept: MANIFEST_MEDIA_TYPE}
    const caps = (role?: string) => capabilitiesBody(clientId, role)
    await this.step('WFM-17.1', '201',
      () => this.call(me, clientId, 'POST', `${base}/capabilities`, {body: caps()}), this.expectStatus(201))
    await this.step('WFM-17.2', '201',
      () => this.call(me, clientId, 'PUT', `${base}/capabilities`, {body: caps()}), this.expectStatus(201))
    await this.step('WFM-17.3', '422',
      () => this.call(me, clientId, 'POST', `${base}/capabilities`, {body: caps('Unknown Role')}), this.expectStatus(422))
    await this.step('WFM-13.1', '401',
      () => this.call(me, clientId, 'GET', `${base}/deployments`, {headers: manifestHeaders, signing: 'none'}), this.expectStatus(401))
    await this.step('WFM-13.2', '401',
      () => this.call(me, clientId, 'PUT', `${base}/capabilities`, {body: caps(), signing: 'flipped'}), this.expectStatus(401))
    await this.step('WFM-14.1', '400',
      () => this.call(me, clientId, 'PUT', `${base}/capabilities`, {body: caps(), signing: 'no-digest'}), this.expectStatus(400))
    await this.step('WFM-14.2', '400',
      () => this.call(me, clientId, 'PUT', `${base}/capabilities`, {body: caps(), contentDigest: `sha-256=:${Buffer.alloc(32).toString('base64')}:`}), this.expectStatus(400))
    const now = Math.floor(Date.now() / 1000)
    await this.step('WFM-16.1', '401',
      () => this.call(me, clientId, 'GET', `${base}/deployments`, {headers: manifestHeaders, created: now - 86_400}), this.expectStatus(401))
    await this.step('WFM-16.2', '401',
      () => this.call(me, clientId, 'GET', `${base}/deployments`, {headers: manifestHeaders, created: now + 3600}), this.expectStatus(401))
    await this.step('WFM-11.1', '401 or 403',
      () => this.call(me, clientId, 'GET', `${base}/deployments`, {headers: manifestHeaders, keyOf: stranger}), this.expectStatus(401, 403))
    await this.step('WFM-11.2', '404',
      () => this.call(me, clientId, 'GET', '/api/v1/clients/00000000-0000-4000-8000-000000000000/deployments', {headers: manifestHeaders}), this.expectStatus(404))

    const manifest = await this.step('WFM-20', `200, ${MANIFEST_MEDIA_TYPE}`,
      () => this.call(me, clientId, 'GET', `${base}/deployments`, {headers: manifestHeaders}), manifestFinding)
    if (manifest?.res.status !== 200) {
      this.skipEach(EARLY_MANIFEST, 'needs the manifest of WFM-20, which did not come')
    } else {
      const res = manifest.res
      this.record('WFM-22', '"sha256:<hex of body>"', manifestEtagFinding(res), manifest)
      this.record('WFM-24', 'no immutable, max-age ≤ 300', manifestCachingFinding(res), manifest)
      this.record('WFM-25', 'canonical JSON', canonicalFinding(res), manifest)
      const body = (res.json ?? {}) as Partial<StateManifest>
      if (this.o.givenKeys) this.skip('WFM-26', '1', 'the run signs with given keys (--key), so this client may not be new')
      else this.record('WFM-26', '1', body.manifestVersion === 1 ? {got: '1', problems: []} : {got: String(body.manifestVersion), problems: ['a client\'s first manifest must have manifestVersion 1']}, manifest)
      this.record('WFM-28.1', 'null iff no deployments', bundlePresenceFinding(body), manifest)
      const etag = res.headers['etag']
      await this.step('WFM-21.1', `200, ${MANIFEST_MEDIA_TYPE}`,
        () => this.call(me, clientId, 'GET', `${base}/deployments`), r => ({got: `${r.status} ${r.headers['content-type'] ?? ''}`.trim(), problems: [...status(r, [200]), ...(r.status === 200 && mediaType(r.headers['content-type']) !== MANIFEST_MEDIA_TYPE ? ['not the manifest media type'] : [])]}))
      await this.step('WFM-21.2', '406',
        () => this.call(me, clientId, 'GET', `${base}/deployments`, {headers: {accept: 'text/plain'}}), this.expectStatus(406))
      if (!etag) this.skip('WFM-23', '304', 'the manifest had no ETag (WFM-22)')
      else {
        await this.step('WFM-23', '304, empty body',
          () => this.call(me, clientId, 'GET', `${base}/deployments`, {headers: {...manifestHeaders, 'if-none-match': etag}}),
          r => ({got: `${r.status}${r.bytes.byteLength ? `, ${r.bytes.byteLength} body bytes` : ''}`, problems: [...status(r, [304]), ...(r.bytes.byteLength ? ['a 304 carries no body'] : [])]}))
      }
    }
  }

  /**
   * The checks that need a deployment. `ready` says whether every new client gets one (the
   * default-deployment set-up); when not, the steps are skipped with its reason.
   */
  async late(ready: {met: boolean, detail: string}): Promise<void> {
    const skipAll = (reason: string) => this.skipEach(LATE, reason)
    if (!ready.met) return skipAll(`precondition unmet: every new client gets a deployment (${ready.detail})`)
    const me = this.o.late
    const {exchange, clientId} = await this.onboard(me)
    if (!clientId) return skipAll(`onboarding a second client did not succeed (${exchange ? exchange.res.status : 'no answer'})`)
    const base = `/api/v1/clients/${encodeURIComponent(clientId)}`
    const manifestHeaders = {accept: MANIFEST_MEDIA_TYPE}

    if (this.o.givenKeys) this.skip('WFM-07.2', 'a new clientId', 'the run signs with given keys (--key): both clients are one device')
    else if (!this.earlyClientId) this.skip('WFM-07.2', 'a new clientId', 'the first client did not onboard')
    else this.record('WFM-07.2', 'a new clientId', clientId !== this.earlyClientId ? {got: clientId, problems: []} : {got: clientId, problems: ['both devices got the same clientId']})
    const skipRest = (reason: string) => this.skipEach(LATE.filter(id => id !== 'WFM-07.2'), reason)

    // A WFM picks the deployment profile by the roles a device reports, so report them first.
    try {
      const caps = await this.call(me, clientId, 'POST', `${base}/capabilities`, {body: capabilitiesBody(clientId)})
      if (caps.res.status !== 201) return skipRest(`the second client's capabilities answered ${caps.res.status}`)
    } catch (err) {
      if (!(err instanceof NoAnswer)) throw err
      return skipRest(`the second client's capabilities got no answer: ${err.cause.message}`)
    }
    // The deployment reaches a new client through the WFM's own machinery: give it a moment.
    let manifest: StateManifest | undefined
    let last: Exchange | undefined
    const deadline = Date.now() + (this.o.deploymentWaitMs ?? 10_000)
    for (;;) {
      try {
        last = await this.call(me, clientId, 'GET', `${base}/deployments`, {headers: manifestHeaders})
      } catch (err) {
        if (!(err instanceof NoAnswer)) throw err
        return skipRest(`the second client's manifest request got no answer: ${err.cause.message}`)
      }
      const body = last.res.json as StateManifest | undefined
      if (last.res.status === 200 && Array.isArray(body?.deployments) && body.deployments.length > 0) { manifest = body; break }
      if (Date.now() > deadline) break
      await Bun.sleep(250)
    }
    if (!manifest) return skipRest(`the second client got no deployment within ${Math.round((this.o.deploymentWaitMs ?? 10_000) / 1000)} s (manifest answered ${last?.res.status})`)

    this.record('WFM-28.2', 'a bundle', bundlePresenceFinding(manifest), last)
    const refs = referenceFindings(manifest, clientId)
    this.record('WFM-30', '/api/v1/clients/{clientId}/…/{digest}', refs.urls, last)
    this.record('WFM-32.1', 'sha256:<64 hex>', refs.digests, last)

    const artifactUrl = (url: string) => (/^https?:\/\//.test(url) ? url.slice(new URL(url).origin.length) : url).replace(new RegExp(`^${new URL(this.o.baseUrl).pathname.replace(/\/+$/, '')}(?=/api/)`), '')
    const fetchArtifact = async (url: string): Promise<Exchange | TransportError> => {
      try {
        return await this.call(me, clientId, 'GET', artifactUrl(url))
      } catch (err) {
        if (!(err instanceof NoAnswer)) throw err
        return err.cause
      }
    }

    // Each YAML: its bytes, its id, its headers. One step per rule, over every deployment.
    const yamls = new Map<string, string>()
    const per = {bytes: [] as string[], id: [] as string[], etag: [] as string[], caching: [] as string[], type: [] as string[]}
    let lastYaml: Exchange | undefined
    for (const ref of manifest.deployments) {
      const got = await fetchArtifact(ref.url)
      if (got instanceof TransportError) { per.bytes.push(`${ref.url}: ${got.message}`); continue }
      lastYaml = got
      if (got.res.status !== 200) { per.bytes.push(`${ref.url} answered ${got.res.status}`); continue }
      if (sha256Digest(got.res.bytes) !== ref.digest) per.bytes.push(`the YAML of ${ref.deploymentId} hashes to ${sha256Digest(got.res.bytes)}, not ${ref.digest}`)
      const text = new TextDecoder().decode(got.res.bytes)
      yamls.set(ref.deploymentId, text)
      const id = annotationId(text)
      if (id !== ref.deploymentId) per.id.push(`the YAML of ${ref.deploymentId} has metadata.annotations.id ${JSON.stringify(id ?? null)}`)
      const h = artifactHeaderFindings(got.res, ref.digest, YAML_MEDIA_TYPE)
      per.etag.push(...h.etag.problems.map(p => `${ref.deploymentId}: ${p}`))
      per.caching.push(...h.caching.problems.map(p => `${ref.deploymentId}: ${p}`))
      per.type.push(...h.mediaType.problems.map(p => `${ref.deploymentId}: ${p}`))
    }
    const n = `${manifest.deployments.length} YAML${manifest.deployments.length === 1 ? '' : 's'}`
    const finding = (problems: string[], what = n): Finding => ({got: problems.length ? `${problems.length} problem${problems.length === 1 ? '' : 's'}` : `${what} checked`, problems})
    this.record('WFM-32.2', '200, sha256 = digest', finding(per.bytes), lastYaml)
    this.record('WFM-31', 'ids equal', finding(per.id), lastYaml)

    const bundleRef = manifest.bundle
    const bundle = bundleRef ? await fetchArtifact(bundleRef.url) : undefined
    const bundleProblems: string[] = []
    const bundleExchange = bundle instanceof TransportError ? undefined : bundle
    if (!bundleRef) bundleProblems.push('the manifest has no bundle')
    else if (bundle instanceof TransportError) bundleProblems.push(`${bundleRef.url}: ${bundle.message}`)
    else if (bundle && bundle.res.status !== 200) bundleProblems.push(`${bundleRef.url} answered ${bundle.res.status}`)
    const bundleOk = bundleRef && bundleExchange && bundleExchange.res.status === 200
    if (bundleOk) {
      if (sha256Digest(bundleExchange.res.bytes) !== bundleRef.digest) bundleProblems.push(`the bundle hashes to ${sha256Digest(bundleExchange.res.bytes)}, not ${bundleRef.digest}`)
      const h = artifactHeaderFindings(bundleExchange.res, bundleRef.digest, bundleRef.mediaType)
      per.etag.push(...h.etag.problems.map(p => `bundle: ${p}`))
      per.caching.push(...h.caching.problems.map(p => `bundle: ${p}`))
      per.type.push(...h.mediaType.problems.map(p => `bundle: ${p}`))
    }
    this.record('WFM-32.3', '200, sha256 = digest', {got: bundleProblems.length ? bundleProblems[0]! : 'bundle checked', problems: bundleProblems}, bundleExchange)
    const typeProblems = bundleRef && bundleRef.mediaType !== BUNDLE_MEDIA_TYPE ? [`bundle.mediaType is ${bundleRef.mediaType}`] : []
    let contents: string[] = []
    if (bundleOk) {
      const read = await readBundle(bundleExchange.res.bytes, manifest)
      if (!read.ok) contents = [read.reason]
    } else contents = ['no bundle to read']
    this.record('WFM-29', 'media type; one root entry per deployment', {got: [...typeProblems, ...contents].length ? 'bundle not as required' : 'bundle as required', problems: [...typeProblems, ...contents]}, bundleExchange)
    this.record('WFM-34', '"<digest>"', finding(per.etag, `${n} and the bundle`), lastYaml)
    this.record('WFM-35', 'immutable caching', finding(per.caching, `${n} and the bundle`), lastYaml)
    this.record('WFM-37', 'their media types', finding(per.type, `${n} and the bundle`), lastYaml)

    const zero = `sha256:${'0'.repeat(64)}`
    const first = manifest.deployments[0]!
    await this.step('WFM-36.1', '404',
      () => this.call(me, clientId, 'GET', `${base}/deployments/${encodeURIComponent(first.deploymentId)}/${zero}`), this.expectStatus(404))
    await this.step('WFM-36.2', '404',
      () => this.call(me, clientId, 'GET', `${base}/bundles/${zero}`), this.expectStatus(404))

    const statusPath = `${base}/deployments/${encodeURIComponent(first.deploymentId)}/status`
    const components = componentNames(yamls.get(first.deploymentId) ?? '')
    await this.step('WFM-39.1', '200',
      () => this.call(me, clientId, 'POST', statusPath, {body: statusBody(first.deploymentId, 'pending', components)}), this.expectStatus(200))
    await this.step('WFM-39.2', '422',
      () => this.call(me, clientId, 'POST', statusPath, {body: statusBody(first.deploymentId, 'Installed', components)}), this.expectStatus(422))

    const other = this.earlyClientId
    if (!other || other === clientId) this.skip('WFM-51', '401, 403 or 404', 'needs two different clients')
    else {
      await this.step('WFM-51', '401, 403 or 404',
        () => this.call(me, clientId, 'GET', `/api/v1/clients/${encodeURIComponent(other)}/deployments`, {headers: manifestHeaders}), this.expectStatus(401, 403, 404))
    }
  }
}


/** Steps that need the early client's clientId, skipped together when onboarding fails. */
const EARLY_AFTER_ONBOARDING = ['WFM-07.1', 'WFM-17.1', 'WFM-17.2', 'WFM-17.3', 'WFM-13.1', 'WFM-13.2', 'WFM-14.1', 'WFM-14.2', 'WFM-16.1', 'WFM-16.2', 'WFM-11.1', 'WFM-11.2', 'WFM-20', 'WFM-22', 'WFM-24', 'WFM-25', 'WFM-26', 'WFM-28.1', 'WFM-21.1', 'WFM-21.2', 'WFM-23']
/** Steps that judge the early client's manifest. */
const EARLY_MANIFEST = ['WFM-22', 'WFM-24', 'WFM-25', 'WFM-26', 'WFM-28.1', 'WFM-21.1', 'WFM-21.2', 'WFM-23']
/** Steps of the late part, which need a deployment. */
const LATE = ['WFM-07.2', 'WFM-28.2', 'WFM-30', 'WFM-32.1', 'WFM-32.2', 'WFM-31', 'WFM-32.3', 'WFM-29', 'WFM-34', 'WFM-35', 'WFM-37', 'WFM-36.1', 'WFM-36.2', 'WFM-39.1', 'WFM-39.2', 'WFM-51']
