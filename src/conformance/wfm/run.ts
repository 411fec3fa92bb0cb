/**
 * `margo conformance wfm`: runs the Margo conformance suites against a WFM from the device's
 * side. The order is fixed because the suites need opposite set-ups: wfm-core first (a new
 * client has no deployments), then the preconditions are arranged through the operator API,
 * then device-supplier and portman (a new client has one deployment), then everything the run
 * created is undone (also after a failure or Ctrl-C). With operator access, a WFM with live
 * devices of its own is refused first unless the operator allows it.
 */
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {randomBytes} from 'node:crypto'
import {normalizeServerUrl, readCaFile, resolveConnection, type Connection} from '../../client/connection.ts'
import {InterruptedError, UnreachableError, UsageError} from '../../util/errors.ts'
import {OperatorClient} from '../../client/operator-client.ts'
import {isSignatureAlgorithm, type SignatureAlgorithm} from '../../signing/index.ts'
import {requireSuites, type ConformanceSuites} from '../data/suites.ts'
import {recordRequest, recordResponse, sha256Hex, type WireRequest, type WireResponse} from '../common/exchange.ts'
import {certificateForOnboarding, freshIdentity, givenIdentity, type DeviceIdentity} from '../common/identity.ts'
import {runFailed, suiteReport, type StepResult, type SuiteReport} from '../common/report.ts'
import {flipSignatureByte, signWire} from '../common/signing.ts'
import {httpSender, TransportError, type Send, type TlsOptions} from '../common/transport.ts'
import {
  DEVICE_SCENARIOS, artifactUrl, denyListValues, extractScenario, prepareScenarioStep, reviewManifest,
  stepPreconditions, unsupportedFields, PRECONDITION_TEXT, type Precondition, type Scenario, type ScenarioContext,
} from './device-supplier.ts'
import {judge, type Verdict} from './evaluate.ts'
import {arrangeDefaultDeployment, arrangeDenyList, arrangePreregistration, enrolmentPolicy, OWN_SAMPLE_COMPOSE, SAMPLE_COMPOSE_APP, type Arrangement} from './preconditions.ts'
import {RunLedger, type CleanupReport} from './ledger.ts'
import {cleanupSummary, undoRun} from './cleanup.ts'
import {liveDevices, liveFleetRefusal, thresholdsOf} from './live-fleet.ts'
import {SPEC_SUITE, SpecRun} from './spec.ts'
import {PORTMAN_COLLECTION, runPortman} from './portman.ts'
import {WFM_CORE_COLLECTION, coreSteps, extractCore, prepareCoreStep, type CoreContext, type PostmanCollection} from './wfm-core.ts'

/** The Margo project's suites, run from its conformance material (`--suites`). */
export const THIRD_PARTY_SUITES = ['wfm-core', 'device-supplier', 'portman'] as const
export type ThirdPartySuite = (typeof THIRD_PARTY_SUITES)[number]
/** Every suite, in the order they run: margo's own `spec` first, it needs no download. */
export const SUITES = [SPEC_SUITE, ...THIRD_PARTY_SUITES] as const
export type SuiteName = (typeof SUITES)[number]

/** The files of the Margo conformance material each suite reads (the set-ups for device-supplier and portman read the scenarios and the sample app too). */
export const SUITE_FILES: Record<ThirdPartySuite, readonly string[]> = {
  'wfm-core': [WFM_CORE_COLLECTION],
  'device-supplier': [DEVICE_SCENARIOS, SAMPLE_COMPOSE_APP],
  'portman': [PORTMAN_COLLECTION, DEVICE_SCENARIOS, SAMPLE_COMPOSE_APP],
}

export interface WfmConformanceOptions {
  /** The WFM's device interface base, e.g. `https://wfm:8443/v1alpha2/margo` (before `/api/v1`). */
  baseUrl: string
  suites: readonly SuiteName[]
  /** A checkout of the Margo project's sandbox repository holding the suites' files. */
  suitesDir?: string
  caFile?: string
  insecure?: boolean
  keyFile?: string
  certFile?: string
  algorithm?: string
  /** Operator access to arrange preconditions: a URL and token, or the data dir of a local margo serve. */
  operatorUrl?: string
  operatorToken?: string
  dataDir?: string
  /** Preconditions the WFM already provides by its own configuration. */
  assume?: readonly Precondition[]
  newman?: string
  strict?: boolean
  /** Run even when the WFM has live devices that are not the run's (`--allow-live-fleet`). */
  allowLiveFleet?: boolean
  /** Aborted on Ctrl-C: the run stops sending, undoes its set-up and throws InterruptedError. */
  signal?: AbortSignal
  /** Called after each step (progress output). */
  onStep?: (step: StepResult) => void
}

export interface PreconditionReport {
  id: string
  met: boolean
  detail: string
}

export interface WfmConformanceReport {
  target: string
  startedAt: string
  finishedAt: string
  strict: boolean
  tls: {verify: boolean, caFile?: string}
  signing: {algorithm: SignatureAlgorithm, keys: 'generated' | 'given'}
  operator: {available: boolean, enrollment?: string}
  preconditions: PreconditionReport[]
  /** What the run created through the operator API and how it was undone; absent without operator access. */
  cleanup?: CleanupReport
  suites: SuiteReport[]
  ok: boolean
}

const isThirdParty = (s: SuiteName): s is ThirdPartySuite => s !== SPEC_SUITE

/**
 * The suites a run does: those asked for (`all` is every one), or by default `spec` plus each
 * third-party suite whose material is there (portman also needs newman).
 */
export function chooseSuites(requested: readonly string[] | undefined, available: (suite: ThirdPartySuite) => boolean): SuiteName[] {
  if (requested && requested.length > 0) return requested.includes('all') ? [...SUITES] : SUITES.filter(s => requested.includes(s))
  return SUITES.filter(s => !isThirdParty(s) || available(s))
}

const NO_OPERATOR = 'no operator access: pass --data-dir of a local margo serve, or --operator-url and --operator-token (or arrange it on the WFM and pass --assume)'

/** Checks and normalises the target URL (the base the suites append `/api/v1/...` to). */
export function normaliseBaseUrl(input: string): string {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw new UsageError(`invalid base URL ${JSON.stringify(input)} — give the WFM's device interface base, e.g. https://wfm.example:8443/v1alpha2/margo`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`base URL ${input} must use https:// or http://`)
  if (url.search || url.hash) throw new UsageError(`base URL ${input} must not carry a query or fragment`)
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}`
}

function resolveAlgorithm(value: string | undefined): SignatureAlgorithm | undefined {
  if (value === undefined) return undefined
  if (!isSignatureAlgorithm(value)) throw new UsageError(`unknown --algorithm ${value} — use one of ecdsa-p256-sha256, ecdsa-p384-sha384, rsa-v1_5-sha256, rsa-pss-sha256, rsa-pss-sha512, ed25519`)
  return value
}

function readFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {cause: err})
  }
}

/** The run's own identity source: the given key and certificate, or a fresh one per suite. */
async function identitySource(options: WfmConformanceOptions): Promise<{next: () => Promise<DeviceIdentity>, alg: SignatureAlgorithm, keys: 'generated' | 'given'}> {
  const alg = resolveAlgorithm(options.algorithm)
  if (!!options.keyFile !== !!options.certFile) throw new UsageError('--key and --cert go together: pass both, or neither for fresh keys')
  if (options.keyFile && options.certFile) {
    let given: DeviceIdentity
    try {
      given = givenIdentity(readFile(options.keyFile, '--key'), readFile(options.certFile, '--cert'), alg)
    } catch (err) {
      if (err instanceof UsageError) throw err
      throw new UsageError(`--key/--cert: ${(err as Error).message}`, {cause: err})
    }
    return {next: async () => given, alg: given.alg, keys: 'given'}
  }
  return {next: () => freshIdentity(alg ?? 'ecdsa-p256-sha256', alg !== undefined), alg: alg ?? 'ecdsa-p256-sha256', keys: 'generated'}
}

function operatorConnection(options: WfmConformanceOptions, caPem: string | undefined): Connection | undefined {
  // A token alone (MARGO_TOKEN in the environment, say) names no server: only a URL asks for operator access.
  if (options.operatorUrl) {
    if (!options.operatorToken) throw new UsageError('--operator-url needs --operator-token (or MARGO_TOKEN)')
    const baseUrl = normalizeServerUrl(options.operatorUrl, '--operator-url')
    return {baseUrl, token: options.operatorToken, ...(caPem ? {ca: caPem} : {}), origin: {server: '--operator-url', token: '--operator-token'}}
  }
  if (options.dataDir) return resolveConnection({dataDir: options.dataDir, ...(options.caFile ? {caFile: options.caFile} : {})})
  return undefined
}

function dataDirCa(dataDir: string | undefined): {pem: string, path: string} | undefined {
  if (!dataDir) return undefined
  const path = join(dataDir, 'tls/ca.pem')
  return existsSync(path) ? {pem: readCaFile(path, '--data-dir'), path} : undefined
}

function verdictStep(suite: string, id: string, name: string, verdict: Verdict, req: WireRequest, res: WireResponse, extra: Partial<StepResult> = {}): StepResult {
  const keep = verdict.result === 'FAIL' || verdict.result === 'CONFLICT'
  return {
    suite, id, name, ...extra,
    result: verdict.result, expected: verdict.expected, got: verdict.got,
    ...(verdict.reason ? {reason: verdict.reason} : {}),
    ...(verdict.conflict ? {conflict: verdict.conflict} : {}),
    ...(keep ? {request: recordRequest(req), response: recordResponse(res)} : {}),
  }
}

function noAnswer(suite: string, id: string, name: string, expected: string, req: WireRequest, err: TransportError, extra: Partial<StepResult> = {}): StepResult {
  return {suite, id, name, ...extra, result: 'FAIL', expected, got: `no answer (${err.code})`, reason: err.message, request: recordRequest(req)}
}

function skipped(suite: string, id: string, name: string, expected: string, reason: string, extra: Partial<StepResult> = {}): StepResult {
  return {suite, id, name, ...extra, result: 'SKIPPED', expected, got: '-', reason}
}

// ---------------------------------------------------------------- wfm-core

async function runWfmCore(material: ConformanceSuites, send: Send, baseUrl: string, own: DeviceIdentity, makeIdentity: () => Promise<DeviceIdentity>, enrollment: CoreContext['enrollment'], emit: (s: StepResult) => void): Promise<SuiteReport> {
  const suite = 'wfm-core'
  const collection = material.json<PostmanCollection>(WFM_CORE_COLLECTION)
  // Fresh keys the WFM has never seen: one submitted at onboarding, one used on our client's path.
  const newcomer = await makeIdentity()
  const stranger = await makeIdentity()
  const env = {baseUrl, ownCertificate: certificateForOnboarding(own), freshCertificate: certificateForOnboarding(newcomer), nonce: `${Date.now()}-${randomBytes(4).toString('hex')}`}
  let ctx: CoreContext = enrollment ? {enrollment} : {}
  const results: StepResult[] = []
  for (const step of coreSteps(collection)) {
    const extra = {caseId: step.caseId, crIds: step.crIds}
    const prep = prepareCoreStep(step, ctx, env)
    const expected = prep.expectation.statuses.join(' or ')
    if (JSON.stringify(step.item.request.url).includes(':clientId') && !ctx.clientId) {
      const r = skipped(suite, step.id, step.name, expected, 'needs the clientId of onboarding-201, which did not succeed', extra)
      results.push(r); emit(r)
      continue
    }
    let req = prep.request
    switch (prep.signing) {
      case 'own': req = await signWire(req, own, 'ctt'); break
      case 'own-no-digest': req = await signWire(req, own, 'ctt', {omitDigest: true}); break
      case 'own-flipped': { const signed = await signWire(req, own, 'ctt'); req = {...signed, headers: flipSignatureByte(signed.headers)}; break }
      case 'fresh': req = await signWire(req, newcomer, 'ctt'); break
      case 'stranger': req = await signWire(req, stranger, 'ctt'); break
      case 'none': break
    }
    let result: StepResult
    try {
      const res = await send(req)
      result = verdictStep(suite, step.id, step.name, judge(prep.expectation, res), req, res, extra)
      ctx = extractCore(step, res, ctx)
    } catch (err) {
      if (!(err instanceof TransportError)) throw err
      result = noAnswer(suite, step.id, step.name, expected, req, err, extra)
    }
    results.push(result); emit(result)
  }
  return suiteReport(suite, results)
}

// ---------------------------------------------------------------- device-supplier

async function checkManifestArtifacts(send: Send, baseUrl: string, identity: DeviceIdentity, manifest: unknown, last: number | undefined): Promise<{problems: string[], version?: number}> {
  const review = reviewManifest(manifest, last)
  const problems = [...review.problems]
  for (const a of review.artifacts) {
    const req = await signWire({method: 'GET', url: artifactUrl(baseUrl, a.url), headers: {}}, identity, 'scenario')
    try {
      const res = await send(req)
      if (res.status !== 200) { problems.push(`${a.url} answered ${res.status}`); continue }
      if (`sha256:${sha256Hex(res.bytes)}` !== a.digest) problems.push(`${a.url} does not hash to ${a.digest}`)
    } catch (err) {
      if (!(err instanceof TransportError)) throw err
      problems.push(`${a.url}: ${err.message}`)
    }
  }
  return {problems, ...(review.manifestVersion !== undefined ? {version: review.manifestVersion} : {})}
}

async function runDeviceSupplier(scenarios: readonly Scenario[], send: Send, baseUrl: string, identity: DeviceIdentity, met: ReadonlyMap<Precondition, PreconditionReport>, emit: (s: StepResult) => void): Promise<SuiteReport> {
  const suite = 'device-supplier'
  const env = {baseUrl, certificate: certificateForOnboarding(identity)}
  const results: StepResult[] = []
  for (const scenario of scenarios) {
    let ctx: ScenarioContext = {}
    /** Context names whose producing step was skipped, and why. */
    const lostBecause = new Map<string, string>()
    let lastAccepted: number | undefined
    for (const step of scenario.steps) {
      const name = `${scenario.name}: ${step.name}`
      const extra = {caseId: step.id, ...(step.crIds ? {crIds: step.crIds} : {})}
      const expected = String(step.expected_status)
      const push = (r: StepResult) => { results.push(r); emit(r) }
      const skip = (reason: string) => {
        for (const key of Object.keys(step.extract_context ?? {})) lostBecause.set(key, reason)
        push(skipped(suite, step.id, name, expected, reason, extra))
      }

      const unsupported = unsupportedFields(step, scenario)
      if (unsupported.length) { skip(`uses ${unsupported.join(', ')}, which this runner does not support`); continue }
      const unmet = stepPreconditions(step).filter(p => !met.get(p)?.met)
      if (unmet.length) {
        skip(`precondition unmet: ${unmet.map(p => `${PRECONDITION_TEXT[p]} (${met.get(p)?.detail ?? NO_OPERATOR})`).join('; ')}`)
        continue
      }
      const prep = prepareScenarioStep(step, ctx, env)
      if (prep.kind === 'unresolved') {
        const inherited = prep.missing.map(m => lostBecause.get(m)).find(r => r !== undefined)
        skip(inherited ?? `needs ${prep.missing.map(m => `{${m}}`).join(', ')}, which no earlier step of the scenario provided`)
        continue
      }
      let req = prep.sign ? await signWire(prep.request, identity, 'scenario') : prep.request
      // Step headers go on after signing: that is how the scenarios send e.g. an empty Content-Digest.
      req = {...req, headers: {...req.headers, ...prep.afterSigning}}
      let res: WireResponse
      try {
        res = await send(req)
      } catch (err) {
        if (!(err instanceof TransportError)) throw err
        push(noAnswer(suite, step.id, name, expected, req, err, extra))
        continue
      }
      let verdict = judge(prep.expectation, res)
      if (verdict.result !== 'FAIL' && (step.expect_manifest_accepted || step.expect_manifest_rejected)) {
        const review = await checkManifestArtifacts(send, baseUrl, identity, res.json, lastAccepted)
        if (step.expect_manifest_accepted && review.problems.length) {
          verdict = {...verdict, result: 'FAIL', got: `${res.status}, manifest not acceptable`, reason: review.problems.join('; ')}
        } else if (step.expect_manifest_rejected && !review.problems.length) {
          verdict = {...verdict, result: 'FAIL', got: `${res.status}, manifest acceptable`, reason: 'the manifest passes every client-side check, but the step expects a device to reject it'}
        } else if (step.expect_manifest_accepted && review.version !== undefined) {
          lastAccepted = review.version
        }
      }
      ctx = extractScenario(step, res, ctx)
      push(verdictStep(suite, step.id, name, verdict, req, res, extra))
    }
  }
  return suiteReport(suite, results)
}

// ---------------------------------------------------------------- the run

async function probe(send: Send, baseUrl: string, tls: TlsOptions): Promise<void> {
  try {
    await send({method: 'GET', url: `${baseUrl}/api/v1/onboarding/certificate`, headers: {accept: 'application/json'}})
  } catch (err) {
    if (!(err instanceof TransportError)) throw err
    const tlsProblem = /cert|tls|ssl|self.signed|UNABLE_TO|DEPTH_ZERO/i.test(`${err.code} ${err.message}`)
    const hint = tlsProblem
      ? tls.ca ? 'the CA given does not match the server certificate — check --ca-file' : 'pass the WFM\'s CA with --ca-file (or --insecure to skip verification for this run only)'
      : 'check the URL and that the WFM is running'
    throw new UnreachableError(`cannot reach the WFM at ${baseUrl}: ${err.message} — ${hint}`, {code: err.code, cause: err})
  }
}

/** Runs the chosen suites and returns the report; throws only for usage errors or an unreachable WFM. */
export async function runWfmConformance(options: WfmConformanceOptions): Promise<WfmConformanceReport> {
  const startedAt = new Date().toISOString()
  const baseUrl = normaliseBaseUrl(options.baseUrl)
  if (options.suites.length === 0) throw new UsageError('no suite chosen — use --suite spec, wfm-core, device-supplier, portman or all')
  // Checked before anything goes over the wire: a missing file is the caller's to fix.
  const material = options.suites.filter(isThirdParty).map(s => requireSuites(options.suitesDir, `the ${s} suite`, SUITE_FILES[s]))[0]

  const ca = options.caFile ? {pem: readCaFile(options.caFile, '--ca-file'), path: options.caFile} : dataDirCa(options.dataDir)
  const tls: TlsOptions = options.insecure ? {insecure: true} : ca ? {ca: ca.pem} : {}
  const interrupted = () => options.signal?.aborted === true
  const checkpoint = () => { if (interrupted()) throw new InterruptedError('interrupted', {code: 'interrupted'}) }
  const wire = httpSender(tls)
  // Every suite sends through here: after Ctrl-C no new request leaves, and the run unwinds to its undo.
  const send: Send = async req => { checkpoint(); return wire(req) }
  const ledger = new RunLedger()
  const source = await identitySource(options)
  const ids = {...source, next: async () => { const i = await source.next(); ledger.identity(i.certPem); return i }}
  const fresh = async (alg: SignatureAlgorithm, announce?: boolean) => { const i = await freshIdentity(alg, announce); ledger.identity(i.certPem); return i }
  const connection = operatorConnection(options, ca?.pem)
  const operator = connection ? new OperatorClient(connection, {userAgent: 'margo-conformance'}) : undefined
  const emit = options.onStep ?? (() => {})

  await probe(send, baseUrl, tls)

  const preconditions: PreconditionReport[] = []
  const record = (a: Arrangement) => { preconditions.push({id: a.id, met: a.met, detail: a.detail}) }
  const enrollment = operator ? await enrolmentPolicy(operator) : undefined
  const suites: SuiteReport[] = []
  const specIdentities = options.suites.includes(SPEC_SUITE)
    ? {early: await ids.next(), late: await ids.next(), stranger: await fresh(ids.alg)}
    : undefined
  const coreIdentity = options.suites.includes('wfm-core') ? await ids.next() : undefined
  const scenarioIdentity = options.suites.some(s => s === 'device-supplier' || s === 'portman') ? await ids.next() : undefined
  const spec = specIdentities && new SpecRun({baseUrl, send, ...specIdentities, givenKeys: ids.keys === 'given', emit})

  if (operator) {
    // Taken before anything is created: the devices on the WFM now are never the run's to touch.
    const devices = await operator.listDevices()
    ledger.seenBefore(devices)
    const thresholds = thresholdsOf((await operator.status().catch(() => undefined))?.thresholds)
    const refusal = liveFleetRefusal(liveDevices(devices, new Date(), thresholds, ledger.fingerprints), thresholds, options.allowLiveFleet === true)
    if (refusal) throw new UsageError(refusal, {code: 'live_fleet'})
  }

  let interruption: InterruptedError | undefined
  let cleanup: CleanupReport | undefined
  try {
    if (operator && (enrollment === 'allowlist' || enrollment === 'approve')) {
      const certs = [...new Set([specIdentities?.early, specIdentities?.late, coreIdentity, scenarioIdentity].filter((i): i is DeviceIdentity => !!i).map(i => i.certPem))]
      record(await arrangePreregistration(operator, ledger, certs))
    }
    // spec's first part and wfm-core need clients that have no deployment yet.
    await spec?.early()
    checkpoint()
    if (coreIdentity && material) suites.push(await runWfmCore(material, send, baseUrl, coreIdentity, () => fresh(ids.alg, coreIdentity.announceAlg), enrollment, emit))
    checkpoint()

    if (spec || scenarioIdentity) {
      const met = new Map<Precondition, PreconditionReport>()
      const arrange = async (id: Precondition, work: (client: OperatorClient) => Promise<Arrangement>) => {
        let report: PreconditionReport
        if (options.assume?.includes(id)) report = {id, met: true, detail: 'provided by the WFM (--assume)'}
        else if (!operator) report = {id, met: false, detail: NO_OPERATOR}
        else {
          const a = await work(operator)
          report = {id: a.id, met: a.met, detail: a.detail}
        }
        preconditions.push(report)
        met.set(id, report)
      }
      const scenarios = scenarioIdentity && material ? material.json<Scenario[]>(DEVICE_SCENARIOS) : undefined
      if (scenarios) await arrange('deny-list', client => arrangeDenyList(client, ledger, denyListValues(scenarios)))
      checkpoint()
      // The suites' sample app when the material is there, else our own: only its description differs.
      await arrange('default-deployment', client => arrangeDefaultDeployment(client, ledger, material ? material.text(SAMPLE_COMPOSE_APP) : OWN_SAMPLE_COMPOSE))
      checkpoint()
      if (spec) {
        await spec.late(met.get('default-deployment')!)
        suites.unshift(spec.report())
      }
      checkpoint()
      if (scenarioIdentity && scenarios && material) {
        if (options.suites.includes('device-supplier')) suites.push(await runDeviceSupplier(scenarios, send, baseUrl, scenarioIdentity, met, emit))
        checkpoint()
        if (options.suites.includes('portman')) {
          suites.push(await runPortman({collection: material.json(PORTMAN_COLLECTION), baseUrl, send, tls, identity: scenarioIdentity, ...(options.newman ? {newman: options.newman} : {}), defaultDeployment: met.get('default-deployment')?.met === true}))
        }
        checkpoint()
      }
    }
  } catch (err) {
    if (!(err instanceof InterruptedError)) throw err
    interruption = err
  } finally {
    // Also after a failure: what the run created must not outlive it.
    if (operator) cleanup = await undoRun(operator, ledger)
  }
  if (interruption) {
    throw new InterruptedError(`interrupted — ${cleanup ? cleanupSummary(cleanup) : 'without operator access the devices the run onboarded stay on the WFM'}`, {code: 'interrupted', cause: interruption})
  }

  const strict = options.strict === true
  return {
    target: baseUrl,
    startedAt,
    finishedAt: new Date().toISOString(),
    strict,
    tls: {verify: !options.insecure, ...(ca && !options.insecure ? {caFile: ca.path} : {})},
    signing: {algorithm: ids.alg, keys: ids.keys},
    operator: {available: !!operator, ...(enrollment ? {enrollment} : {})},
    preconditions,
    ...(cleanup ? {cleanup} : {}),
    suites,
    ok: !runFailed(suites, strict),
  }
}
