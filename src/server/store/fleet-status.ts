import type {StatusReportRecord, Store} from './store.ts'

/**
 * Read-only queries for the fleet overview. One query for the latest report of every
 * deployment, where going through `Store.latestStatus` would cost one query per deployment.
 */
export function latestStatusByDeployment(store: Store): Map<string, StatusReportRecord> {
  const rows = store.db.query(`SELECT s.id, s.deployment_id, s.client_id, s.state, s.error_json, s.components_json, s.received_at,
    s.repeat_count, s.last_received_at
    FROM status_reports s
    JOIN (SELECT deployment_id, MAX(id) AS id FROM status_reports GROUP BY deployment_id) latest ON latest.id = s.id`).all() as {
    id: number, deployment_id: string, client_id: string, state: string, error_json: string | null, components_json: string, received_at: string,
    repeat_count: number, last_received_at: string | null
  }[]
  const out = new Map<string, StatusReportRecord>()
  for (const r of rows) {
    out.set(r.deployment_id, {
      id: r.id, deploymentId: r.deployment_id, clientId: r.client_id, state: r.state,
      errorJson: r.error_json, componentsJson: r.components_json, receivedAt: r.received_at,
      repeatCount: r.repeat_count, lastReceivedAt: r.last_received_at,
    })
  }
  return out
}
