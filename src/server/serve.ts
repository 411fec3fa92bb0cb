import {constants, randomBytes} from 'node:crypto'
import {hostname as machineName} from 'node:os'
import {readFileSync, rmSync} from 'node:fs'
import {dataDirFiles} from '../config/paths.ts'
import {STATUS_REPORT_MAX_BYTES, STATUS_REPORT_RATE, STATUS_TIMELINE_RETENTION} from '../margo/limits.ts'
import {MargoError} from '../util/errors.ts'
import {writeFileAtomic} from '../util/fs.ts'
import {createLogger, type LogFormat, type Logger, type LogLevel} from '../util/log.ts'
import {createServerApp} from './app.ts'
import type {DeviceApiContext, EnrollmentPolicy} from './device-api/context.ts'
import {EventBus} from './events.ts'
import {listenerOptions} from './http-listener.ts'
import {acquireInstanceLock, ServerAlreadyRunning} from './instance-lock.ts'
import {OPERATOR_PREFIX} from './operator-api/index.ts'
import {ensureOperatorToken} from './operator-token.ts'
import {startRegistryScheduler} from './registries/index.ts'
import {startAppReconciler, startDeviceReconciler, startWaveController} from './rollouts/index.ts'
import {closeEventStreams} from './fleet-status/event-stream.ts'
import {startEventJournal} from './cluster/event-journal.ts'
import {runAsSingleton} from './cluster/lease.ts'
import {selfCommand, startWorkers, type WorkerSpec} from './cluster/workers.ts'
import {createServerMetrics, ownFamilies, scrape, SNAPSHOT_EVERY_MS, storeSnapshot} from './metrics/server-metrics.ts'
import {startCertificateWatch} from './fleet-status/cert-expiry.ts'
import {createServices} from './services.ts'
import {isLoopbackHost, splitListen} from '../util/listen.ts'
import {EXPOSITION_CONTENT_TYPE, renderExposition} from '../util/metrics.ts'
import {DEFAULT_LIVENESS_THRESHOLDS, checkThresholds} from '../operator-contract/liveness.ts'
import {loadSecretKey, secretBox} from './secrets/cipher.ts'
import {isPostgresUrl} from './store/engine.ts'
import {Store} from './store/store.ts'
import {caFingerprint, defaultSans, ensureTlsMaterial} from './tls-material.ts'

export interface ServeOptions {
  dataDir: string
  listen: string
  basePath: string
  externalUrl?: string
  sans: string[]
  tlsCert?: string
  tlsKey?: string
  caCert?: string
  enrollment: EnrollmentPolicy
  maxBodyBytes: number
  /** Rows kept per deployment in the status timeline (default STATUS_TIMELINE_RETENTION). */
  statusRetention?: number
  signatureMaxAgeSeconds: number
  signatureSkewSeconds: number
  /** Lowest TLS version offered: the Margo specification asks for 1.3; 1.2 is a deliberate fallback. */
  tlsMinVersion: '1.2' | '1.3'
  logLevel: LogLevel
  logFormat?: LogFormat
  version: string
  /** Release executables and SHA256SUMS served under /downloads to devices installing the agent. */
  releaseDir?: string
  /**
   * Processes serving the port (default 1). The first (the primary) holds the data-directory
   * lock and starts the others with `workerCommand`; all share the port and the database.
   */
  workers?: number
  /** Set in a worker the primary started: which one, and the port to share. */
  worker?: WorkerSpec
  /** How to start a worker (default: this program with this process's arguments). */
  workerCommand?: string[]
  /** Also serve GET /metrics without a token on the main port. */
  metricsOpen?: boolean
  /** A separate plain-HTTP loopback listener for GET /metrics, HOST:PORT. */
  metricsListen?: string
  /** The key that seals secrets; default: the data dir's `secret.key`, created at first start. */
  secretKeyFile?: string
  /** How long before a device certificate expires it is listed and announced (ms; default 30 days). */
  certExpiryWarningMs?: number
  /** How long a device may stay silent before it counts as offline (default 1 h); staged rollouts apply their offline rule then. */
  offlineAfterMs?: number
  /**
   * A PostgreSQL URL: the database this node shares with any number of others (default: SQLite
   * in the data directory). The data directory then holds only this node's files.
   */
  database?: string
}

export interface RunningServer {
  /** The pids of the other serve processes (the primary's workers); empty with one process. */
  workerPids(): number[]
  deviceApiUrl: string
  operatorUrl: string
  port: number
  /** `sha256:<hex>` of the root CA, for `margo agent --ca-fingerprint`. */
  caFingerprint: string
  /** Where `--metrics-listen` serves GET /metrics, with the port bound (it may have been 0). */
  metricsUrl?: string
  stop(): Promise<void>
}

/** A failure to start, with what the user can do about it: a bad setting (exit 2) or a failure to listen (exit 1). */
export class ServeError extends MargoError {
  readonly exitCode: 1 | 2

  constructor(message: string, exitCode: 1 | 2 = 1, options: {cause?: unknown} = {}) {
    super(message, {code: exitCode === 2 ? 'invalid_setting' : 'start_failed', cause: options.cause})
    this.exitCode = exitCode
  }
}

export function parseListen(listen: string): {hostname: string, port: number} {
  const parsed = splitListen(listen)
  if (!parsed) throw new ServeError(`--listen ${listen} is not HOST:PORT (examples: 0.0.0.0:443, :8443, 127.0.0.1:8443, [::1]:8443)`, 2)
  return parsed
}

export function normalizeBasePath(p: string): string {
  const trimmed = p.trim().replace(/\/+$/, '')
  if (trimmed === '') return ''
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(trimmed)) throw new ServeError(`--base-path ${p} must be a URL path such as /v1alpha2/margo`, 2)
  return trimmed
}

/** The URL in server.json when that file was written by `pid`. */
function urlOfServer(serverInfo: string, pid: number): string | undefined {
  try {
    const info = JSON.parse(readFileSync(serverInfo, 'utf8')) as {pid?: unknown, url?: unknown}
    return info.pid === pid && typeof info.url === 'string' ? info.url : undefined
  } catch {
    return undefined
  }
}

const localHost = (hostname: string) =>
  hostname === '0.0.0.0' ? '127.0.0.1' : hostname === '::' ? '[::1]' : hostname.includes(':') ? `[${hostname}]` : hostname

/** A database URL as it may be shown: without its password. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:@/]*:)[^@/]*@/i, '$1***@')
}

function openStore(location: string, shared: boolean): Store {
  try {
    return new Store(location, {shared})
  } catch (err) {
    if (!isPostgresUrl(location)) throw err
    throw new ServeError(`cannot use the database ${redactUrl(location)}: ${err instanceof Error ? err.message : String(err)}`, 1, {cause: err})
  }
}

/** Start the Workload Fleet Manager. Resolves once it listens; `stop()` shuts it down cleanly. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = createLogger({level: opts.logLevel, format: opts.logFormat})
  const {hostname, port} = parseListen(opts.listen)
  const basePath = normalizeBasePath(opts.basePath)
  if (opts.metricsListen) metricsAddress(opts.metricsListen)
  const files = dataDirFiles(opts.dataDir)
  // A worker runs under the primary's lock.
  if (opts.worker) return await startLocked(opts, log, hostname, opts.worker.port, basePath, files, () => {})
  // Two servers on one data directory would share a database and overwrite each other's server.json.
  const lock = acquireInstanceLock(files.serveLock, pid => new ServerAlreadyRunning(opts.dataDir, pid, urlOfServer(files.serverInfo, pid)))
  try {
    return await startLocked(opts, log, hostname, port, basePath, files, lock.release)
  } catch (err) {
    lock.release()
    throw err
  }
}

async function startLocked(opts: ServeOptions, log: Logger, hostname: string, port: number, basePath: string, files: ReturnType<typeof dataDirFiles>, releaseLock: () => void): Promise<RunningServer> {
  const tls = await ensureTlsMaterial(opts.dataDir, {sans: defaultSans(opts.sans), tlsCert: opts.tlsCert, tlsKey: opts.tlsKey, caCert: opts.caCert})
  const token = ensureOperatorToken(opts.dataDir)
  let box: ReturnType<typeof secretBox>
  try {
    box = secretBox(loadSecretKey(files.secretKey, opts.secretKeyFile))
  } catch (err) {
    throw new ServeError(err instanceof Error ? err.message : String(err), 2, {cause: err})
  }
  const workers = opts.worker ? 0 : Math.max(1, opts.workers ?? 1)
  if (opts.database !== undefined && !isPostgresUrl(opts.database)) {
    throw new ServeError(`--database ${JSON.stringify(redactUrl(opts.database))} is not a postgres:// URL (SQLite needs no setting: it lives in the data directory)`, 2)
  }
  // Other nodes may serve the same PostgreSQL database: it is shared even with one process here.
  const shared = workers > 1 || opts.worker !== undefined || opts.database !== undefined
  const workerIndex = opts.worker?.index ?? 0
  const store = openStore(opts.database ?? files.database, shared)
  for (const note of store.migrationNotes) log.warn('store.migration_note', {note})
  const events = new EventBus()
  // Unique across nodes too (pids repeat from machine to machine): it names the lease holder and event origin.
  const processId = `${machineName()}:${workerIndex}:${process.pid}:${randomBytes(3).toString('hex')}`
  const journal = shared ? startEventJournal(store.db, events, processId, log) : undefined
  const startedAt = new Date()
  const now = () => new Date()
  const lastSeen = new Map<string, string>()
  const offlineAfterMs = opts.offlineAfterMs ?? DEFAULT_LIVENESS_THRESHOLDS.offlineAfterMs
  // A shorter offline threshold pulls the stale one along, so stale still comes first.
  const liveness = checkThresholds({offlineAfterMs, staleAfterMs: Math.min(DEFAULT_LIVENESS_THRESHOLDS.staleAfterMs, Math.max(1, Math.floor(offlineAfterMs / 4)))})
  // Built once: the operator API and the background jobs share them.
  const services = createServices({store, events, log, now, secretBox: box, lastSeen: () => lastSeen, thresholds: liveness})
  const device: DeviceApiContext = {
    store, events, log,
    config: {
      basePath,
      externalUrl: opts.externalUrl,
      enrollment: opts.enrollment,
      signatureMaxAgeSeconds: opts.signatureMaxAgeSeconds,
      signatureSkewSeconds: opts.signatureSkewSeconds,
      maxBodyBytes: opts.maxBodyBytes,
      maxStatusReportBytes: STATUS_REPORT_MAX_BYTES,
      statusRetention: opts.statusRetention ?? STATUS_TIMELINE_RETENTION,
      statusRate: STATUS_REPORT_RATE,
    },
    caCertificatePem: tls.caPem,
    now,
    keyCache: new Map(),
    lastSeen,
  }
  let deviceApiUrl = ''
  const metrics = createServerMetrics()
  // The processes of one node share a data directory; nodes on one PostgreSQL database do not.
  const metricsNode = `${machineName()}:${opts.dataDir}`
  const operator = {
    store, events, log, token,
    version: opts.version,
    enrollment: opts.enrollment,
    get deviceApiUrl() { return deviceApiUrl },
    maxBodyBytes: Math.max(opts.maxBodyBytes, 64 * 1024 * 1024),
    startedAt,
    now,
    lastSeen: () => device.lastSeen,
    metrics: () => renderExposition(scrape({metrics, node: metricsNode, worker: workerIndex, db: store.db, shared, now: now(), thresholds: liveness, version: opts.version, unflushed: device.lastSeen})),
    ...(opts.certExpiryWarningMs !== undefined ? {certExpiryWarningMs: opts.certExpiryWarningMs} : {}),
    liveness,
  }
  device.metrics = metrics
  store.onCommit = seconds => metrics.sqliteWrite.observe({}, seconds)
  const app = createServerApp(device, operator, services, {releaseDir: opts.releaseDir, observe: r => {
    const labels = {route: r.route, method: r.method, status: String(r.status)}
    metrics.requests.inc(labels)
    metrics.duration.observe(labels, r.seconds)
    if (r.method === 'GET' && r.route.endsWith('/clients/:clientId/deployments')) metrics.polls.inc({status: labels.status})
    else if (r.method === 'POST' && r.route.endsWith('/status')) metrics.statusReports.inc({status: labels.status})
  }})
  const exposition = () => new Response(operator.metrics(), {headers: {'content-type': EXPOSITION_CONTENT_TYPE}})
  if (opts.metricsOpen) app.get('/metrics', () => exposition())
  const snapshots = shared ? setInterval(() => {
    try { storeSnapshot(store.db, metricsNode, workerIndex, ownFamilies(metrics, workerIndex), Date.now()) } catch { /* the next one may succeed */ }
  }, SNAPSHOT_EVERY_MS) : undefined

  try {
    // Sharing the port needs SO_REUSEPORT on every socket of the group. The primary first binds
    // it without, so a port another program holds is refused as with one process.
    if (shared && !opts.worker) port = await probeExclusive(hostname, port)
    app.listen({hostname, port, ...listenerOptions(log, shared), tls: {cert: tls.certPem, key: tls.keyPem, secureOptions: opts.tlsMinVersion === '1.3' ? constants.SSL_OP_NO_TLSv1_2 | constants.SSL_OP_NO_TLSv1_1 | constants.SSL_OP_NO_TLSv1 : constants.SSL_OP_NO_TLSv1_1 | constants.SSL_OP_NO_TLSv1}, maxRequestBodySize: Math.max(opts.maxBodyBytes, 64 * 1024 * 1024) + 1024})
  } catch (err) {
    journal?.stop()
    store.close()
    const msg = err instanceof Error ? err.message : String(err)
    if (/EACCES|permission/i.test(msg) || (port < 1024 && process.getuid?.() !== 0)) {
      throw new ServeError(`cannot listen on ${opts.listen}: port ${port} needs privileges — run as root, or use --listen :8443`, 1, {cause: err})
    }
    if (/EADDRINUSE|in use/i.test(msg)) throw new ServeError(`cannot listen on ${opts.listen}: the port is already in use — stop the other server or pick another port with --listen`, 1, {cause: err})
    throw new ServeError(`cannot listen on ${opts.listen}: ${msg}`, 1, {cause: err})
  }
  const actualPort = app.server!.port!
  const flushLastSeen = () => {
    if (device.lastSeen.size === 0) return
    const batch = [...device.lastSeen]
    device.lastSeen.clear()
    store.setLastSeen(batch)
  }
  const flusher = setInterval(flushLastSeen, 5000)
  const metricsServer = opts.metricsListen && !opts.worker ? listenMetrics(opts.metricsListen, exposition) : undefined
  const controllers = startControllers()
  // Every process re-evaluates the devices whose changes it handles, in the same request.
  const stopDeviceReconciler = startDeviceReconciler({store, events, log, now}, services.rollouts)
  const origin = opts.externalUrl ? new URL(opts.externalUrl).origin : `https://${localHost(hostname)}:${actualPort}`
  // Workers answer the operator API too (GET /health tells enroll commands where devices go): same URL as the primary.
  deviceApiUrl = opts.externalUrl ? opts.externalUrl.replace(/\/+$/, '') : `${origin}${basePath}`
  if (opts.worker) {
    log.info('server.worker_started', {worker: workerIndex, port: actualPort})
    return runningWorker()
  }
  const operatorUrl = `https://${localHost(hostname)}:${actualPort}${OPERATOR_PREFIX}`
  const pool = workers > 1
    ? await startWorkers({count: workers, port: actualPort, command: opts.workerCommand ?? [...selfCommand(), ...process.argv.slice(2)], log})
    : undefined
  writeFileAtomic(files.serverInfo, JSON.stringify({url: deviceApiUrl, operatorUrl, caFile: tls.caFile, pid: process.pid, version: opts.version}, null, 2) + '\n')


  log.info('server.started', {version: opts.version, url: deviceApiUrl, listen: `${hostname}:${actualPort}`, dataDir: opts.dataDir, enrollment: opts.enrollment, tlsGenerated: tls.generated})
  const metricsUrl = metricsServer ? `http://${localHost(metricsServer.hostname ?? '127.0.0.1')}:${metricsServer.port}/metrics` : undefined
  if (metricsUrl) log.info('metrics.listening', {url: metricsUrl})
  if (opts.enrollment === 'auto') {
    log.warn('server.unsafe_setting', {setting: 'enrollment=auto', why: 'any device with a valid certificate is onboarded and trusted; use --enrollment approve or allowlist outside a lab'})
  }

  let stopped = false
  return {
    workerPids: () => pool?.pids() ?? [],
    deviceApiUrl,
    operatorUrl,
    port: actualPort,
    caFingerprint: caFingerprint(tls.caPem),
    ...(metricsUrl ? {metricsUrl} : {}),
    async stop() {
      if (stopped) return
      stopped = true
      await pool?.stop()
      await stopServing()
      if (urlOfServer(files.serverInfo, process.pid) !== undefined) rmSync(files.serverInfo, {force: true})
      releaseLock()
      log.info('server.stopped', {})
    },
  }

  /**
   * Live selectors follow devices as they onboard and change; registries refill the catalog.
   * With several processes exactly one runs them, the holder of the `controllers` lease (which
   * also trims the shared tables; on PostgreSQL an advisory lock, store/postgres/leadership.ts);
   * if it dies, another takes over (cluster/lease.ts).
   */
  function startControllers(): {stop(): void} {
    const start = () => {
      const stopRollouts = startAppReconciler({store, events, log, now}, services.rollouts)
      // Staged rollouts move on with the clock and with status reports; one process runs them.
      const stopWaves = startWaveController({events, log}, services.rollouts)
      const stopRegistries = startRegistryScheduler({store, events, log, now})
      const certificates = startCertificateWatch({store, events, log, now, ...(opts.certExpiryWarningMs !== undefined ? {windowMs: opts.certExpiryWarningMs} : {})})
      certificates.check()
      const pruner = journal && setInterval(() => {
        try {
          journal.prune()
          store.pruneCacheInvalidations()
        } catch (err) {
          log.warn('server.prune_failed', {error: err instanceof Error ? err.message : String(err)})
        }
      }, 60_000)
      return () => {
        if (pruner) clearInterval(pruner)
        certificates.stop()
        stopRegistries()
        stopRollouts()
        stopWaves()
      }
    }
    if (!shared) {
      const stop = start()
      return {stop}
    }
    return runAsSingleton({db: store.db, name: 'controllers', holder: processId, log, start})
  }

  async function stopServing() {
    clearInterval(flusher)
    if (snapshots) clearInterval(snapshots)
    metricsServer?.stop(true)
    controllers.stop()
    stopDeviceReconciler()
    journal?.stop()
    // Event streams never end by themselves, and the server waits for open responses.
    closeEventStreams(events)
    await app.stop()
    flushLastSeen()
    store.close()
  }

  function runningWorker(): RunningServer {
    let stopped = false
    return {
      workerPids: () => [],
      deviceApiUrl: '', operatorUrl: '', port: actualPort, caFingerprint: caFingerprint(tls.caPem),
      async stop() {
        if (stopped) return
        stopped = true
        await stopServing()
        log.info('server.worker_stopped', {worker: workerIndex})
      },
    }
  }
}

/** The plain-HTTP metrics listener's address: loopback only, since it needs no token. */
export function metricsAddress(listen: string): {hostname: string, port: number} {
  const {hostname, port} = parseListen(listen)
  if (!isLoopbackHost(hostname)) {
    throw new ServeError(`--metrics-listen ${listen}: the metrics listener speaks plain HTTP without a token, so it listens on loopback only (e.g. 127.0.0.1:9464); put a proxy in front to publish it`, 2)
  }
  return {hostname, port}
}

/** The plain-HTTP metrics listener. */
function listenMetrics(listen: string, exposition: () => Response) {
  const {hostname, port} = metricsAddress(listen)
  return Bun.serve({hostname, port, development: false, fetch: request => new URL(request.url).pathname === '/metrics' && request.method === 'GET' ? exposition() : new Response('not found\n', {status: 404})})
}

/** Binds `port` without SO_REUSEPORT for a moment: fails as with one process when it is taken. Returns the bound port. */
async function probeExclusive(hostname: string, port: number): Promise<number> {
  // Workers of a server that just died may still be closing the port: give them a moment.
  for (let attempt = 0; ; attempt++) {
    try {
      const probe = Bun.listen({hostname, port, exclusive: true, socket: {data() {}}})
      const bound = probe.port
      probe.stop(true)
      return bound
    } catch (err) {
      if (attempt >= 8 || port === 0) throw new Error(`EADDRINUSE: ${err instanceof Error ? err.message : String(err)}`)
      await Bun.sleep(250)
    }
  }
}
