import {randomUUID, type KeyObject} from 'node:crypto'
import {createConnection, createServer, type Server as NetServer, type Socket} from 'node:net'
import type {Server} from 'bun'
import {parseCapabilities} from '../../margo/capabilities.ts'
import {MANIFEST_MEDIA_TYPE, BUNDLE_MEDIA_TYPE, YAML_MEDIA_TYPE, negotiate} from '../../margo/media-types.ts'
import {certificatePolicyProblems, certificateToBase64Der, createCertificateAuthority, issueServerCertificate, parseCertificate} from '../../pki/index.ts'
import {checkContentDigest, verifyRequest} from '../../signing/index.ts'
import type {ConformanceSuites} from '../data/suites.ts'
import {deploymentYaml, packageLocation, renderStep, type Artifact, type RenderedStep} from './manifests.ts'
import type {Observation, RecordedRequest, Route, SignatureVerdict, StepRecord} from './model.ts'
import {endpointRules, evaluateRules, type AssertionSet} from './rules.ts'
import {agentTimeline, deploymentLabels, diffPlans, previousAccepted, stepProgress, type PlannedDeployment, type SampleApp, type StepPlan} from './timeline.ts'

/** Where the material the mock serves lives in the Margo project's conformance checkout. */
export const SUITE_PATHS = {
  assertions: 'conformance-2/Data-Generator/device-supplier/assertions.json',
  template: (app: SampleApp) => `conformance/device-supplier/manifests/deployment-template-${app}.yaml`,
  compose: (app: SampleApp) => `conformance/device-supplier/sample-apps/${app}/compose.yaml`,
} as const

const APPS: readonly SampleApp[] = ['app-a', 'app-b']

/** Every file the mock reads from the checkout. */
export const AGENT_SUITE_FILES: readonly string[] = [SUITE_PATHS.assertions, ...APPS.map(SUITE_PATHS.template), ...APPS.map(SUITE_PATHS.compose)]

/** The suite's rule set, deployment templates and sample compose apps, as the mock serves them. */
export interface MockMaterial {
  assertions: AssertionSet
  templates: Record<SampleApp, string>
  composeFiles: Record<SampleApp, string>
}

export function mockMaterial(suites: ConformanceSuites): MockMaterial {
  return {
    assertions: suites.json<AssertionSet>(SUITE_PATHS.assertions),
    templates: {'app-a': suites.text(SUITE_PATHS.template('app-a')), 'app-b': suites.text(SUITE_PATHS.template('app-b'))},
    composeFiles: {'app-a': suites.text(SUITE_PATHS.compose('app-a')), 'app-b': suites.text(SUITE_PATHS.compose('app-b'))},
  }
}

export const DEFAULT_BASE_PATH = '/v1alpha2/margo'

export interface MockWfmOptions {
  material: MockMaterial
  /** Prefix of the device interface, default `/v1alpha2/margo` as in the suite. */
  basePath?: string
  /** Loopback address to listen on. */
  host?: '127.0.0.1' | '::1'
  port?: number
  untrustedPort?: number
  now?: () => number
}

export interface TimelineOptions {
  /** How long to wait for the agent to onboard, report capabilities and poll twice. */
  startTimeoutMs: number
  /** How long any later step may take before the timeline moves on without it. */
  stepTimeoutMs: number
  /** How many polls each bad manifest is served for. */
  fixturePolls: number
  signal?: AbortSignal
  onStep?: (step: StepRecord, index: number, total: number) => void
}

export interface MockWfm {
  /** The URL to give the agent: origin plus base path. */
  url: string
  /** The listener whose certificate was issued by a CA the agent was not given. */
  untrustedUrl: string
  caPem: string
  /** `sha256:<hex>` of the CA certificate's DER. */
  caFingerprint: string
  runTimeline(options: TimelineOptions): Promise<void>
  observation(): Observation
  stop(): Promise<void>
}

interface Client {
  clientId: string
  publicKey: KeyObject
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {status, headers: {'content-type': 'application/json', ...headers}})

const SIGNATURE_FAILED = 'Signature verification failed. Ensure you are signing with the correct X.509 private key.'

function decodePath(pathname: string): string {
  try {
    return pathname.split('/').map(decodeURIComponent).join('/')
  } catch {
    return pathname
  }
}

function certificateEncoding(text: string): 'base64-der' | 'base64-pem' | 'pem' {
  if (text.includes('-----BEGIN')) return 'pem'
  return Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('latin1').includes('-----BEGIN') ? 'base64-pem' : 'base64-der'
}

/** An ETag from If-None-Match compared the weak way (RFC 9110 §13.1.2), also tolerating a bare value. */
function matchesEtag(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false
  const bare = (v: string) => v.trim().replace(/^W\//, '').replace(/^"|"$/g, '')
  return ifNoneMatch.split(',').some(v => v.trim() === '*' || bare(v) === bare(etag))
}

/** Sleeps, waking early when the signal aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => { clearTimeout(t); resolve() }, {once: true})
  })
}

/**
 * A mock Margo fleet manager for testing device agents, serving the G1 device interface the
 * way the device-supplier suite's mock does (root CA, onboarding, capabilities against the
 * conformance rule set, State Manifest with ETag/304, bundle and YAML endpoints, status) and
 * recording every request with the verdict on its signature. A CA and server certificate are
 * generated per run; a second listener presents a certificate from another CA, behind a TCP
 * front that counts connection attempts, so a refusal can be told from never trying.
 */
export async function startMockWfm(options: MockWfmOptions): Promise<MockWfm> {
  const basePath = (options.basePath ?? DEFAULT_BASE_PATH).replace(/\/+$/, '')
  if (basePath !== '' && !/^\/[A-Za-z0-9._~\-/]*$/.test(basePath)) throw new Error(`the base path ${JSON.stringify(basePath)} must start with / and contain only URL-safe characters`)
  const host = options.host ?? '127.0.0.1'
  const now = options.now ?? Date.now
  const {assertions, templates, composeFiles} = options.material

  const sans = ['127.0.0.1', 'localhost', '::1']
  const ca = await createCertificateAuthority({commonName: 'margo conformance mock CA'})
  const serverCert = await issueServerCertificate({caCertPem: ca.certPem, caKeyPem: ca.keyPem, sans, commonName: 'localhost'})
  const otherCa = await createCertificateAuthority({commonName: 'margo conformance untrusted CA'})
  const untrustedCert = await issueServerCertificate({caCertPem: otherCa.certPem, caKeyPem: otherCa.keyPem, sans, commonName: 'localhost'})
  const caParsed = parseCertificate(ca.certPem)
  if (!caParsed.ok) throw new Error(`the generated CA cannot be read: ${caParsed.reason}`)

  const plans = agentTimeline()
  const labels = deploymentLabels(plans)
  const requests: RecordedRequest[] = []
  const clients = new Map<string, Client>()
  const renders = new Map<string, RenderedStep>()
  const artifacts = new Map<string, Map<string, Artifact>>()
  const steps: StepRecord[] = []
  let subject: string | null = null
  let current = 0
  let untrustedConnections = 0
  let origin = ''

  const yamlOf = (p: PlannedDeployment) => deploymentYaml(templates[p.app], p.deploymentId, packageLocation(origin, basePath, p))
  const rendered = (clientId: string, index: number): RenderedStep => {
    const key = `${clientId}\n${index}`
    let r = renders.get(key)
    if (!r) {
      r = renderStep(plans[index]!, clientId, yamlOf)
      renders.set(key, r)
      const mine = artifacts.get(clientId) ?? new Map<string, Artifact>()
      for (const [url, a] of r.artifacts) mine.set(url, a)
      artifacts.set(clientId, mine)
    }
    return r
  }

  async function handle(req: Request, listener: 'trusted' | 'untrusted'): Promise<Response> {
    const url = new URL(req.url)
    const path = decodePath(url.pathname)
    const body = new Uint8Array(await req.arrayBuffer())
    const record: RecordedRequest = {
      // Never before the current step began, so time windows and step boundaries always agree.
      seq: requests.length + 1, at: Math.max(now(), steps.at(-1)?.startedAt ?? 0), listener, method: req.method, path, route: 'unknown',
      ifNoneMatch: req.headers.get('if-none-match'), signature: null, status: 0, stepId: plans[current]?.id ?? null,
    }
    requests.push(record)
    const respond = (res: Response, extra: Partial<RecordedRequest> = {}) => {
      Object.assign(record, extra, {status: res.status})
      return res
    }
    if (path === '/health' && req.method === 'GET') return respond(json(200, {status: 'ok'}), {route: 'health'})
    if (basePath !== '' && !path.startsWith(`${basePath}/`)) return respond(json(404, {error: `not found: ${path}`}))
    const rel = path.slice(basePath.length)
    record.path = rel
    // The signing client covered the URL it used: scheme, the Host it sent, the raw path and query.
    const targetUri = `https://${req.headers.get('host') ?? url.host}${url.pathname}${url.search}`
    const verify = async (publicKey: KeyObject): Promise<SignatureVerdict> => {
      const result = await verifyRequest({method: req.method, url: targetUri, headers: req.headers, body}, {publicKey, now: Math.floor(now() / 1000)})
      return result.ok ? {ok: true} : {ok: false, reason: `${result.reason}: ${result.detail}`}
    }
    /** The check order of the suite's mock: unknown client 404, unsigned 401, bad digest 400, bad signature 401. */
    const authenticate = async (route: Route, clientId: string): Promise<Client | Response> => {
      record.route = route
      record.clientId = clientId
      const client = clients.get(clientId)
      if (!client) return respond(json(404, {error: `Client not found: ${clientId}`}))
      record.signature = await verify(client.publicKey)
      if (!req.headers.get('signature-input') || !req.headers.get('signature')) return respond(json(401, {error: `${SIGNATURE_FAILED} (no Signature-Input/Signature)`}))
      if (body.byteLength > 0 && checkContentDigest(req.headers.get('content-digest'), body) !== 'ok') return respond(json(400, {error: 'Missing or invalid content-digest header'}))
      if (!record.signature.ok) return respond(json(401, {error: SIGNATURE_FAILED, message: record.signature.reason}))
      return client
    }
    const parseBody = (): {ok: true, value: unknown} | {ok: false} => {
      try {
        return {ok: true, value: JSON.parse(new TextDecoder().decode(body))}
      } catch {
        return {ok: false}
      }
    }

    let m: RegExpExecArray | null
    if (rel === '/api/v1/onboarding/certificate' && req.method === 'GET') {
      // The spec's form, base64 of the DER; the suite's mock sends PEM text instead.
      return respond(json(200, {certificate: certificateToBase64Der(ca.certPem)}), {route: 'ca'})
    }
    if (rel === '/api/v1/onboarding' && req.method === 'POST') {
      record.route = 'onboarding'
      const doc = parseBody()
      if (!doc.ok) return respond(json(400, {error: 'request body is not JSON'}), {onboarding: {encoding: 'unreadable', problems: ['the body is not JSON']}})
      const problems = evaluateRules(endpointRules(assertions, 'POST_onboarding'), doc.value).map(f => `${f.rule_id}: ${f.error}`)
      const certificate = (doc.value as {certificate?: unknown} | null)?.certificate
      if (typeof certificate !== 'string' || certificate === '') return respond(json(400, {error: 'certificate field is required'}), {onboarding: {encoding: 'unreadable', problems}})
      if ((assertions.rejected_certificates ?? []).includes(certificate)) return respond(json(403, {error: 'Client rejected'}), {onboarding: {encoding: 'unreadable', problems}})
      const parsed = parseCertificate(certificate)
      if (!parsed.ok) return respond(json(400, {error: `Invalid certificate format or structure: ${parsed.reason}`}), {onboarding: {encoding: 'unreadable', problems: [...problems, parsed.reason]}})
      const encoding = certificateEncoding(certificate)
      // Proof of possession: the onboarding request is signed with the key it enrols.
      record.signature = await verify(parsed.cert.publicKey)
      const policy = certificatePolicyProblems(parsed.cert, new Date(now()))
      if (policy.length > 0) return respond(json(422, {error: policy.join('; ')}), {onboarding: {encoding, problems: [...problems, ...policy]}})
      if (problems.length > 0) return respond(json(400, {error: problems[0]}), {onboarding: {encoding, problems}})
      const clientId = randomUUID()
      clients.set(clientId, {clientId, publicKey: parsed.cert.publicKey})
      if (listener === 'trusted' && subject === null) subject = clientId
      return respond(json(201, {clientId}), {clientId, onboarding: {encoding, problems}})
    }
    if ((m = /^\/api\/v1\/clients\/([^/]+)\/capabilities(?:\/[^/]+)?$/.exec(rel)) && (req.method === 'POST' || req.method === 'PUT')) {
      const auth = await authenticate('capabilities', m[1]!)
      if (auth instanceof Response) return auth
      const doc = parseBody()
      if (!doc.ok) return respond(json(400, {error: 'request body is not JSON'}), {capabilities: {problems: ['the body is not JSON']}})
      const failures = evaluateRules(endpointRules(assertions, 'POST_capabilities'), doc.value)
      const parsed = parseCapabilities(doc.value)
      const problems = [...failures.map(f => `${f.rule_id}: ${f.error}`), ...(parsed.ok ? [] : parsed.errors.map(e => `${e.field || '(document)'} ${e.message}`))]
      if (problems.length > 0) {
        return respond(json(422, {status: 'validation_failed', errors: [...failures, ...(parsed.ok ? [] : parsed.errors.map(e => ({rule_id: 'schema', error: `${e.field} ${e.message}`})))]}), {capabilities: {problems}})
      }
      return respond(json(201, {status: 'capabilities_received'}), {capabilities: {problems: []}})
    }
    if ((m = /^\/api\/v1\/clients\/([^/]+)\/deployments$/.exec(rel)) && req.method === 'GET') {
      const auth = await authenticate('manifest', m[1]!)
      if (auth instanceof Response) return auth
      if (!negotiate(req.headers.get('accept'), MANIFEST_MEDIA_TYPE)) return respond(new Response(null, {status: 406}))
      const r = rendered(auth.clientId, current)
      const headers = {etag: r.served.etag, 'cache-control': 'no-cache'}
      if (matchesEtag(record.ifNoneMatch, r.served.etag)) return respond(new Response(null, {status: 304, headers}), {etag: r.served.etag})
      return respond(new Response(r.bytes, {status: 200, headers: {...headers, 'content-type': MANIFEST_MEDIA_TYPE}}), {etag: r.served.etag})
    }
    if ((m = /^\/api\/v1\/clients\/([^/]+)\/(bundles\/([^/]+)|deployments\/([^/]+)\/([^/]+))$/.exec(rel)) && req.method === 'GET') {
      const isBundle = m[3] !== undefined
      const auth = await authenticate(isBundle ? 'bundle' : 'yaml', m[1]!)
      if (auth instanceof Response) return auth
      if (!isBundle) record.deploymentId = m[4]
      const artifact = artifacts.get(auth.clientId)?.get(rel)
      if (!artifact) return respond(json(404, {error: isBundle ? `Bundle not found for digest: ${m[3]}` : `Deployment not found for digest: ${m[5]}`}))
      const etag = `"${artifact.digest}"`
      const headers = {etag, 'cache-control': 'private, max-age=31536000, immutable', ...(isBundle ? {} : {vary: 'Accept-Encoding'})}
      if (matchesEtag(record.ifNoneMatch, etag)) return respond(new Response(null, {status: 304, headers}), {etag})
      return respond(new Response(artifact.bytes, {status: 200, headers: {...headers, 'content-type': isBundle ? BUNDLE_MEDIA_TYPE : YAML_MEDIA_TYPE}}), {etag})
    }
    if ((m = /^\/api\/v1\/clients\/([^/]+)\/deployments\/([^/]+)\/status$/.exec(rel)) && req.method === 'POST') {
      const auth = await authenticate('status', m[1]!)
      if (auth instanceof Response) return auth
      record.deploymentId = m[2]
      const doc = parseBody()
      if (!doc.ok) return respond(json(400, {error: 'request body is not JSON'}), {report: {state: null, components: [], problems: ['the body is not JSON']}})
      const failures = evaluateRules(endpointRules(assertions, 'POST_status'), doc.value)
      const value = doc.value as {deploymentId?: unknown, status?: {state?: unknown}, components?: unknown}
      if (value?.deploymentId !== m[2]) failures.push({rule_id: 'status-path-001', error: `deploymentId ${JSON.stringify(value?.deploymentId)} differs from the path's ${m[2]}`})
      const components = Array.isArray(value?.components)
        ? value.components.map(c => ({name: String((c as {name?: unknown})?.name ?? ''), state: String((c as {state?: unknown})?.state ?? '')}))
        : []
      const report = {state: typeof value?.status?.state === 'string' ? value.status.state : null, components, problems: failures.map(f => `${f.rule_id}: ${f.error}`)}
      if (failures.length > 0) return respond(json(422, {status: 'validation_failed', errors: failures}), {report})
      return respond(json(200, {acknowledgement: 'received'}), {report})
    }
    if ((m = /^\/sample-apps\/(app-a|app-b)\/compose\.yaml$/.exec(rel)) && req.method === 'GET') {
      return respond(new Response(composeFiles[m[1] as SampleApp], {status: 200, headers: {'content-type': YAML_MEDIA_TYPE}}), {route: 'sample-app'})
    }
    return respond(json(404, {error: `not found: ${req.method} ${rel}`}))
  }

  const serve = (port: number, tls: {certPem: string, keyPem: string}, listener: 'trusted' | 'untrusted'): Server<undefined> => Bun.serve({
    hostname: host, port, tls: {cert: tls.certPem, key: tls.keyPem},
    fetch: req => handle(req, listener).catch(err => json(500, {error: `mock failure: ${(err as Error).message}`})),
  })
  const trusted = serve(options.port ?? 0, serverCert, 'trusted')
  const untrustedInner = serve(0, untrustedCert, 'untrusted')
  const sockets = new Set<Socket>()
  const front: NetServer = createServer(socket => {
    untrustedConnections++
    const upstream = createConnection({host, port: untrustedInner.port!})
    for (const s of [socket, upstream]) {
      sockets.add(s)
      s.on('error', () => { socket.destroy(); upstream.destroy() })
      s.on('close', () => sockets.delete(s))
    }
    socket.pipe(upstream)
    upstream.pipe(socket)
  })
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject)
    front.listen(options.untrustedPort ?? 0, host, () => resolve())
  })
  const frontPort = (front.address() as {port: number}).port
  const hostInUrl = host.includes(':') ? `[${host}]` : host
  origin = `https://${hostInUrl}:${trusted.port}`

  const stepRecord = (index: number, startedAt: number): StepRecord => {
    const plan = plans[index] as StepPlan
    const prev = previousAccepted(plans, index)
    const diff = diffPlans(prev?.deployments ?? [], plan.deployments)
    return {
      id: plan.id, title: plan.title, kind: plan.kind, ...(plan.fixture && {fixture: plan.fixture}), expect: plan.expect,
      startedAt, endedAt: null, reached: false, manifest: null, ...diff,
      noFetch: plan.fixture === 'unsupported_digest_algorithm' || plan.fixture === 'non_increasing_manifest_version',
      ownUrls: [],
    }
  }

  return {
    url: `${origin}${basePath}`,
    untrustedUrl: `https://${hostInUrl}:${frontPort}${basePath}`,
    caPem: ca.certPem,
    caFingerprint: caParsed.fingerprint,

    async runTimeline(opts: TimelineOptions) {
      for (let i = 0; i < plans.length; i++) {
        const plan = plans[i]!
        // Strictly after every request recorded so far: a request belongs to exactly one step.
        const record = stepRecord(i, Math.max(now(), (requests.at(-1)?.at ?? 0) + 1))
        current = i
        steps.push(record)
        const diff = {added: record.added, updated: record.updated, removed: record.removed}
        const deadline = record.startedAt + (i === 0 ? opts.startTimeoutMs : opts.stepTimeoutMs)
        for (;;) {
          const progress = stepProgress({plan, diff, clientId: subject, requests: requests.filter(r => r.listener === 'trusted' && r.at >= record.startedAt), fixturePolls: opts.fixturePolls})
          if (progress.done) {
            record.reached = true
            break
          }
          record.waitingFor = progress.waitingFor
          if (now() >= deadline || opts.signal?.aborted) break
          await pause(100, opts.signal)
        }
        if (record.reached) delete record.waitingFor
        record.endedAt = now()
        opts.onStep?.(record, i, plans.length)
        // Without an agent there is nothing to drive: the remaining steps are recorded as never reached.
        if ((subject === null && i === 0) || opts.signal?.aborted) {
          for (let j = i + 1; j < plans.length; j++) {
            const skipped = stepRecord(j, now())
            skipped.endedAt = skipped.startedAt
            skipped.waitingFor = subject === null ? 'an agent to onboard' : 'the run was interrupted'
            steps.push(skipped)
          }
          break
        }
      }
    },

    observation(): Observation {
      const withManifests = steps.map((s, i) => {
        if (subject === null) return s
        const mine = rendered(subject, i)
        const accepted = new Set(plans.flatMap((p, j) => (p.expect === 'accept' ? [...rendered(subject!, j).artifacts.keys()] : [])))
        return {...s, manifest: mine.served, ownUrls: s.expect === 'reject' ? [...mine.artifacts.keys()].filter(u => !accepted.has(u)) : []}
      })
      return {basePath, clientId: subject, requests: [...requests], steps: withManifests, untrusted: {connections: untrustedConnections, requests: requests.filter(r => r.listener === 'untrusted').length}, labels}
    },

    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => front.close(() => resolve()))
      trusted.stop(true)
      untrustedInner.stop(true)
    },
  }
}
