import type {SqlDatabase as Database} from '../store/engine.ts'
import {livenessOf, type LivenessThresholds} from '../../operator-contract/liveness.ts'
import {type Family, mergeFamilies, processFamilies, Registry, withLabels} from '../../util/metrics.ts'

/** A snapshot older than this is of a process that is gone: left out of a scrape. */
export const SNAPSHOT_MAX_AGE_MS = 30_000
export const SNAPSHOT_EVERY_MS = 5_000

/**
 * What one serve process counts. Labels are bounded: route templates (never a path with ids),
 * methods, statuses, reasons. With several processes each keeps its own and the scrape shows
 * every process's series with a `worker` label: the port is shared, so a scrape reaches one
 * process at random, which answers for all from the snapshots they store every few seconds.
 */
export function createServerMetrics() {
  const registry = new Registry()
  return {
    registry,
    requests: registry.counter('margo_http_requests_total', 'HTTP requests answered, by route template, method and status.'),
    duration: registry.histogram('margo_http_request_duration_seconds', 'Time to answer an HTTP request, by route template, method and status.'),
    polls: registry.counter('margo_device_polls_total', 'Desired-state polls (GET .../deployments) by outcome: the HTTP status.'),
    statusReports: registry.counter('margo_status_reports_total', 'Deployment status reports received, by HTTP status of the answer.'),
    signatureFailures: registry.counter('margo_signature_failures_total', 'Device requests refused for their signature or digest, by reason.'),
    sqliteWrite: registry.histogram('margo_sqlite_write_duration_seconds', 'Time to commit a write transaction to SQLite.'),
  }
}

export type ServerMetrics = ReturnType<typeof createServerMetrics>

/** This process's families (its counters and its CPU and memory), labelled with its worker index. */
export function ownFamilies(metrics: ServerMetrics, worker: number): Family[] {
  return withLabels([...metrics.registry.collect(), ...processFamilies()], {worker: String(worker)})
}

export function storeSnapshot(db: Database, node: string, worker: number, families: Family[], nowMs: number) {
  db.query('INSERT INTO metrics_snapshots (node, worker, updated_at, json) VALUES (?, ?, ?, ?) ON CONFLICT (node, worker) DO UPDATE SET updated_at = excluded.updated_at, json = excluded.json')
    .run(node, worker, nowMs, JSON.stringify(families))
}

/** The other processes of this node (a scrape of one node never reports another node's series). */
export function otherSnapshots(db: Database, node: string, worker: number, nowMs: number): Family[][] {
  const rows = db.query('SELECT json FROM metrics_snapshots WHERE node = ? AND worker != ? AND updated_at >= ?').all(node, worker, nowMs - SNAPSHOT_MAX_AGE_MS) as {json: string}[]
  return rows.map(r => JSON.parse(r.json) as Family[])
}

const gauge = (name: string, help: string, samples: {labels: Record<string, string>, value: number}[]): Family =>
  ({name, help, type: 'gauge', samples: samples.map(s => ({name, ...s}))})

/** The fleet as the database says: the same from every process, so without a worker label. */
export function fleetFamilies(db: Database, now: Date, thresholds: LivenessThresholds, version: string, unflushed: ReadonlyMap<string, string> = new Map()): Family[] {
  const devices = new Map<string, number>()
  for (const row of db.query('SELECT client_id, enrollment, last_seen_at FROM clients').iterate() as Iterable<{client_id: string, enrollment: string, last_seen_at: string | null}>) {
    const k = `${row.enrollment}\0${livenessOf(unflushed.get(row.client_id) ?? row.last_seen_at, now, thresholds)}`
    devices.set(k, (devices.get(k) ?? 0) + 1)
  }
  const deployments = db.query(`SELECT d.desired AS desired, coalesce(s.state, 'none') AS state, count(*) AS n FROM deployments d
    LEFT JOIN status_reports s ON s.id = (SELECT max(id) FROM status_reports WHERE deployment_id = d.deployment_id)
    WHERE d.forgotten_at IS NULL GROUP BY 1, 2`).all() as {desired: string, state: string, n: number}[]
  const rollouts = (db.query('SELECT count(*) AS n FROM rollouts WHERE deleted = 0').get() as {n: number}).n
  return [
    gauge('margo_devices', 'Devices by enrollment and liveness (from the last signed request).', [...devices].map(([k, value]) => {
      const [enrollment, liveness] = k.split('\0')
      return {labels: {enrollment: enrollment!, liveness: liveness!}, value}
    })),
    gauge('margo_deployments', 'Deployments by desired state and the state last reported ("none": no report yet).',
      deployments.map(r => ({labels: {desired: r.desired, state: r.state}, value: r.n}))),
    gauge('margo_rollouts', 'Live rollouts.', [{labels: {}, value: rollouts}]),
    gauge('margo_build_info', 'The running margo: version and runtime.', [{labels: {version, runtime: `bun-${Bun.version}`}, value: 1}]),
  ]
}

/** Everything a scrape answers: this process live, the others from their snapshots, the fleet. */
export function scrape(opts: {metrics: ServerMetrics, node: string, worker: number, db: Database, shared: boolean, now: Date, thresholds: LivenessThresholds, version: string, unflushed?: ReadonlyMap<string, string>}): Family[] {
  const others = opts.shared ? otherSnapshots(opts.db, opts.node, opts.worker, opts.now.getTime()) : []
  return mergeFamilies([ownFamilies(opts.metrics, opts.worker), ...others, fleetFamilies(opts.db, opts.now, opts.thresholds, opts.version, opts.unflushed)])
}
