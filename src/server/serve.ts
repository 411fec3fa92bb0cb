import {constants} from 'node:crypto'
import {readFileSync, rmSync} from 'node:fs'
import {dataDirFiles} from '../config/paths.ts'
import {STATUS_REPORT_MAX_BYTES, STATUS_REPORT_RATE, STATUS_TIMELINE_RETENTION} from '../margo/limits.ts'
import {MargoError} from '../util/errors.ts'
import {writeFileAtomic} from '../util/fs.ts'
import {createLogger, type LogFormat, type Logger, type LogLevel} from '../util/log.ts'
import {createServerApp} from './app.ts'
import type {DeviceApiContext, EnrollmentPolicy} from './device-api/context.ts'
import {ensureTicketKey} from './enrollment/key.ts'
import {EventBus} from './events.ts'
import {listenerOptions} from './http-listener.ts'
import {acquireInstanceLock, ServerAlreadyRunning} from './instance-lock.ts'
import {OPERATOR_PREFIX} from './operator-api/index.ts'
import {ensureOperatorToken} from './operator-token.ts'
import {startRegistryScheduler} from './registries/index.ts'
import {startRolloutController} from './rollouts/index.ts'
import {closeEventStreams} from './fleet-status/event-stream.ts'
import {createServices} from './services.ts'
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
}

export interface RunningServer {
  deviceApiUrl: string
  operatorUrl: string
  port: number
  /** `sha256:<hex>` of the root CA, for `margo agent --ca-fingerprint`. */
  caFingerprint: string
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
  const m = /^(?:\[([^\]]+)\]|([^:]*))?:(\d{1,5})$/.exec(listen.trim())
  const port = m ? Number(m[3]) : NaN
  if (!m || port > 65535) throw new ServeError(`--listen ${listen} is not HOST:PORT (examples: 0.0.0.0:443, :8443, 127.0.0.1:8443, [::1]:8443)`, 2)
  return {hostname: m[1] ?? (m[2] || '0.0.0.0'), port}
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

/** Start the Workload Fleet Manager. Resolves once it listens; `stop()` shuts it down cleanly. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = createLogger({level: opts.logLevel, format: opts.logFormat})
  const {hostname, port} = parseListen(opts.listen)
  const basePath = normalizeBasePath(opts.basePath)
  const files = dataDirFiles(opts.dataDir)
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
  const store = new Store(files.database)
  for (const note of store.migrationNotes) log.warn('store.migration_note', {note})
  const events = new EventBus()
  const startedAt = new Date()
  const now = () => new Date()
  // Built once: the operator API and the background jobs share them.
  const services = createServices({store, events, log, now})
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
    lastSeen: new Map(),
  }
  let deviceApiUrl = ''
  const operator = {
    store, events, log, token,
    version: opts.version,
    enrollment: opts.enrollment,
    get deviceApiUrl() { return deviceApiUrl },
    maxBodyBytes: Math.max(opts.maxBodyBytes, 64 * 1024 * 1024),
    startedAt,
    now,
    lastSeen: () => device.lastSeen,
  }
  const app = createServerApp(device, operator, services, {releaseDir: opts.releaseDir, ticketKey: ensureTicketKey(opts.dataDir)})

  try {
    app.listen({hostname, port, ...listenerOptions(log), tls: {cert: tls.certPem, key: tls.keyPem, secureOptions: opts.tlsMinVersion === '1.3' ? constants.SSL_OP_NO_TLSv1_2 | constants.SSL_OP_NO_TLSv1_1 | constants.SSL_OP_NO_TLSv1 : constants.SSL_OP_NO_TLSv1_1 | constants.SSL_OP_NO_TLSv1}, maxRequestBodySize: Math.max(opts.maxBodyBytes, 64 * 1024 * 1024) + 1024})
  } catch (err) {
    store.close()
    const msg = err instanceof Error ? err.message : String(err)
    if (/EACCES|permission/i.test(msg) || (port < 1024 && process.getuid?.() !== 0)) {
      throw new ServeError(`cannot listen on ${opts.listen}: port ${port} needs privileges — run as root, or use --listen :8443`, 1, {cause: err})
    }
    if (/EADDRINUSE|in use/i.test(msg)) throw new ServeError(`cannot listen on ${opts.listen}: the port is already in use — stop the other server or pick another port with --listen`, 1, {cause: err})
    throw new ServeError(`cannot listen on ${opts.listen}: ${msg}`, 1, {cause: err})
  }
  const actualPort = app.server!.port!
  const origin = opts.externalUrl ? new URL(opts.externalUrl).origin : `https://${localHost(hostname)}:${actualPort}`
  deviceApiUrl = opts.externalUrl ? opts.externalUrl.replace(/\/+$/, '') : `${origin}${basePath}`
  const operatorUrl = `https://${localHost(hostname)}:${actualPort}${OPERATOR_PREFIX}`
  writeFileAtomic(files.serverInfo, JSON.stringify({url: deviceApiUrl, operatorUrl, caFile: tls.caFile, pid: process.pid, version: opts.version}, null, 2) + '\n')

  const flushLastSeen = () => {
    if (device.lastSeen.size === 0) return
    const batch = [...device.lastSeen]
    device.lastSeen.clear()
    store.setLastSeen(batch)
  }
  const flusher = setInterval(flushLastSeen, 5000)
  // Live selectors follow devices as they onboard and change; registries refill the catalog.
  const stopRollouts = startRolloutController({store, events, log, now}, services.rollouts)
  const stopRegistries = startRegistryScheduler({store, events, log, now})

  log.info('server.started', {version: opts.version, url: deviceApiUrl, listen: `${hostname}:${actualPort}`, dataDir: opts.dataDir, enrollment: opts.enrollment, tlsGenerated: tls.generated})
  if (opts.enrollment === 'auto') {
    log.warn('server.unsafe_setting', {setting: 'enrollment=auto', why: 'any device with a valid certificate is onboarded and trusted; use --enrollment approve or allowlist outside a lab'})
  }

  let stopped = false
  return {
    deviceApiUrl,
    operatorUrl,
    port: actualPort,
    caFingerprint: caFingerprint(tls.caPem),
    async stop() {
      if (stopped) return
      stopped = true
      clearInterval(flusher)
      stopRegistries()
      stopRollouts()
      // Event streams never end by themselves, and the server waits for open responses.
      closeEventStreams(events)
      await app.stop()
      flushLastSeen()
      store.close()
      if (urlOfServer(files.serverInfo, process.pid) !== undefined) rmSync(files.serverInfo, {force: true})
      releaseLock()
      log.info('server.stopped', {})
    },
  }
}
