import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {availableParallelism} from 'node:os'
import {Flags} from '@oclif/core'
import pjson from '../package.json' with {type: 'json'}
import {MargoCommand} from '../src/cli/margo-command.ts'
import {defaultDataDir} from '../src/config/paths.ts'
import {STATUS_TIMELINE_RETENTION} from '../src/margo/limits.ts'
import {WORKER_READY, workerFromEnv} from '../src/server/cluster/workers.ts'
import {redactUrl, startServer} from '../src/server/serve.ts'
import {parseDuration} from '../src/util/duration.ts'
import {UsageError} from '../src/util/errors.ts'

function offlineAfter(text: string): number {
  try {
    const ms = parseDuration(text)
    if (ms > 0) return ms
  } catch { /* refused below */ }
  throw new UsageError(`--offline-after ${JSON.stringify(text)} is not a positive duration, e.g. 1h, 15m or 90s`)
}

function certExpiryWarning(text: string): number {
  try {
    return parseDuration(text)
  } catch (err) {
    throw new UsageError(`--cert-expiry-warning: ${err instanceof Error ? err.message : String(err)}`)
  }
}

/** dist/release beside a dist/margo, when there is one: where `bun run release` writes. */
function defaultReleaseDir(): string | undefined {
  const dir = join(dirname(process.execPath), 'release')
  return existsSync(join(dir, 'SHA256SUMS')) ? dir : undefined
}

export default class Serve extends MargoCommand {
  static override summary = 'Run the Workload Fleet Manager (the Margo device interface and the operator API)'
  static override description = `Serves the Margo Workload Management API to devices over HTTPS, with an embedded SQLite store in the data directory.

On first start it creates a root CA, a server certificate and an operator token in the data directory. A new device waits in pending until an operator approves it (margo device approve) or presents a join token (margo device join-token create); --enrollment auto trusts every device, for labs only. Devices download the root CA from GET <url>/api/v1/onboarding/certificate; operator commands run on this machine find the server, the token and the CA through the same data directory.`
  static override examples = [
    {description: 'Lab server on an unprivileged port', command: '<%= config.bin %> serve --listen :8443'},
    {description: 'Serve the API under the prefix the Margo conformance suites use', command: '<%= config.bin %> serve --listen 127.0.0.1:8443 --base-path /v1alpha2/margo'},
    {description: 'Lab or test bench: trust every device that onboards, without approval', command: '<%= config.bin %> serve --listen 127.0.0.1:8443 --enrollment auto'},
    {description: 'One of several nodes sharing a PostgreSQL database (see docs/operations.md)', command: 'MARGO_DATABASE_URL=postgres://margo:secret@db.example:5432/margo <%= config.bin %> serve --listen :443 --workers 2'},
  ]
  static override flags = {
    'data-dir': Flags.string({description: 'Directory for the database, TLS material and operator token', env: 'MARGO_DATA_DIR', default: defaultDataDir(), defaultHelp: async () => defaultDataDir()}),
    listen: Flags.string({description: 'Address to listen on, HOST:PORT (the Margo spec requires 443)', env: 'MARGO_LISTEN', default: '0.0.0.0:443'}),
    'base-path': Flags.string({description: 'URL prefix in front of /api/v1 (e.g. /v1alpha2/margo)', env: 'MARGO_BASE_PATH', default: ''}),
    'external-url': Flags.string({description: 'URL devices use to reach the API root when a proxy sits in front (used to check @target-uri)', env: 'MARGO_EXTERNAL_URL'}),
    san: Flags.string({description: 'Extra DNS name or IP for the generated server certificate (repeatable)', multiple: true, default: []}),
    'tls-cert': Flags.string({description: 'Use this server certificate (PEM) instead of the generated one'}),
    'tls-key': Flags.string({description: 'Private key (PEM) of --tls-cert'}),
    'ca-cert': Flags.string({description: 'Root CA (PEM) to publish to devices with --tls-cert'}),
    enrollment: Flags.string({description: 'How new devices are admitted: approve (an operator approves, or a join token preauthorises), allowlist (pre-registered or join-token certificates only), auto (lab: every device is trusted)', options: ['approve', 'allowlist', 'auto'], default: 'approve', env: 'MARGO_ENROLLMENT'}),
    'max-body-bytes': Flags.integer({description: 'Largest device request body accepted (larger gets 413)', default: 1024 * 1024, min: 1024}),
    'status-retention': Flags.integer({description: 'Status timeline rows kept per deployment (a run of identical reports is one row); older rows are deleted', default: STATUS_TIMELINE_RETENTION, min: 1, env: 'MARGO_STATUS_RETENTION'}),
    'signature-max-age': Flags.integer({description: 'Oldest accepted RFC 9421 "created", in seconds', default: 300, min: 1}),
    'signature-skew': Flags.integer({description: 'Allowed clock skew for "created" in the future, in seconds', default: 60, min: 0}),
    'tls-min-version': Flags.string({description: 'Lowest TLS version accepted (the Margo specification requires 1.3)', options: ['1.3', '1.2'], default: '1.3'}),
    database: Flags.string({description: 'PostgreSQL URL (postgres://user:password@host:5432/db) of a database several serve nodes share; default: SQLite in the data directory', env: 'MARGO_DATABASE_URL'}),
    workers: Flags.integer({description: 'Processes serving the port and sharing the database (one of them runs the controllers)', env: 'MARGO_WORKERS', default: availableParallelism(), defaultHelp: async () => 'the number of cores', min: 1, max: 64}),
    'metrics-open': Flags.boolean({description: 'Also serve Prometheus metrics at GET /metrics without a token (otherwise GET /operator/v1/metrics with a token that has metrics.read)'}),
    'metrics-listen': Flags.string({description: 'Serve Prometheus metrics at GET /metrics on a separate plain-HTTP loopback address, HOST:PORT (e.g. 127.0.0.1:9464)', env: 'MARGO_METRICS_LISTEN'}),
    'secret-key-file': Flags.string({description: 'Key (32 bytes, base64; mode 0600) that seals secrets at rest; default: secret.key in the data dir, created at first start', env: 'MARGO_SECRET_KEY_FILE'}),
    'cert-expiry-warning': Flags.string({description: 'How long before a device certificate expires margo status lists it and the server announces it (e.g. 30d, 72h)', default: '30d', env: 'MARGO_CERT_EXPIRY_WARNING'}),
    'offline-after': Flags.string({description: 'How long a device may stay silent before it counts as offline, e.g. 1h or 90s (staged rollouts apply their --offline rule then)', default: '1h', env: 'MARGO_OFFLINE_AFTER'}),
    'log-level': Flags.string({options: ['debug', 'info', 'warn', 'error'], default: 'info'}),
    'log-format': Flags.string({options: ['text', 'json'], description: 'Log format (default: text on a terminal, json otherwise)'}),
    'release-dir': Flags.string({description: 'Agent executables and SHA256SUMS (the output of bun run release) served to devices under /downloads', env: 'MARGO_RELEASE_DIR', default: defaultReleaseDir(), defaultHelp: async () => defaultReleaseDir()}),
    'print-config': Flags.boolean({description: 'Print the effective settings and where each came from, then exit'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Serve)
    if (flags['print-config']) {
      const {renderServeConfig, settingSource} = await import('../src/server/serve-config.ts')
      const shown = Object.fromEntries(Object.keys(Serve.flags).filter(k => k !== 'print-config').map(k => [k, (flags as Record<string, unknown>)[k]]))
      if (typeof shown.database === 'string') shown.database = redactUrl(shown.database)
      const sources = Object.fromEntries(Object.keys(shown).map(k => [k, settingSource(k, this.argv, process.env, Serve.flags[k as keyof typeof Serve.flags]?.env)]))
      this.log(renderServeConfig(shown, sources))
      return
    }
    // Listen for the stop signal before anything starts, so a signal during start-up is not fatal.
    const worker = workerFromEnv(process.env)
    const stopRequested = new Promise<void>(resolve => {
      process.once('SIGTERM', resolve)
      process.once('SIGINT', resolve)
      // A worker's stdin is its primary's pipe: it closes when the primary is gone, however that happened.
      if (worker) void (async () => { for await (const _ of Bun.stdin.stream()) { /* nothing is sent */ } resolve() })()
    })
    const server = await startServer({
      dataDir: flags['data-dir'],
      listen: flags.listen,
      basePath: flags['base-path'],
      externalUrl: flags['external-url'],
      sans: flags.san,
      tlsCert: flags['tls-cert'],
      tlsKey: flags['tls-key'],
      caCert: flags['ca-cert'],
      enrollment: flags.enrollment as 'auto' | 'approve' | 'allowlist',
      maxBodyBytes: flags['max-body-bytes'],
      statusRetention: flags['status-retention'],
      signatureMaxAgeSeconds: flags['signature-max-age'],
      signatureSkewSeconds: flags['signature-skew'],
      tlsMinVersion: flags['tls-min-version'] as '1.2' | '1.3',
      logLevel: flags['log-level'] as 'info',
      logFormat: flags['log-format'] as 'text' | 'json' | undefined,
      version: pjson.version,
      releaseDir: flags['release-dir'] || undefined,
      workers: flags.workers,
      ...(flags.database ? {database: flags.database} : {}),
      metricsOpen: flags['metrics-open'],
      metricsListen: flags['metrics-listen'],
      worker,
      ...(flags['secret-key-file'] ? {secretKeyFile: flags['secret-key-file']} : {}),
      certExpiryWarningMs: certExpiryWarning(flags['cert-expiry-warning']),
      offlineAfterMs: offlineAfter(flags['offline-after']),
    })
    if (worker) process.stdout.write(`${WORKER_READY}\n`)
    else process.stdout.write(`margo ${pjson.version} serving ${server.deviceApiUrl} (operator API ${server.operatorUrl}, data ${flags['data-dir']}) — agents: margo agent --server ${server.deviceApiUrl} --ca-fingerprint ${server.caFingerprint}\n`)
    await stopRequested
    await server.stop()
  }
}
