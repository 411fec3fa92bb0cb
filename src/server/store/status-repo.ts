import type {StatusReportRecord, Store} from './store.ts'

/**
 * The digests of a deployment a client may still be running, newest first: the current one
 * and those in its retained manifests (a device can report on a version it was given before an
 * update reached it).
 */
export function deploymentDigests(store: Store, clientId: string, deploymentId: string, current: string): string[] {
  const rows = store.db.query(`SELECT digest, MAX(manifest_version) AS v FROM manifest_entries
    WHERE client_id = ? AND deployment_id = ? GROUP BY digest ORDER BY v DESC`).all(clientId, deploymentId) as {digest: string}[]
  return [current, ...rows.map(r => r.digest).filter(d => d !== current)]
}

export type NewStatusReport = Omit<StatusReportRecord, 'id' | 'repeatCount' | 'lastReceivedAt'>

/**
 * Records a status report in its deployment's timeline, in one transaction: a report identical
 * to the latest row (same state, error and components) only counts on that row; any other
 * becomes a new row, and rows beyond the newest `retention` are deleted.
 */
export function recordStatusReport(store: Store, r: NewStatusReport, retention: number): {id: number, repeated: boolean} {
  return store.transaction(() => {
    // The repeat is tried first, as one statement: a device that reports the same thing again
    // (the common case) costs one statement, a change three.
    const repeated = store.db.query(`UPDATE status_reports SET repeat_count = repeat_count + 1, last_received_at = ?1
      WHERE id = (SELECT max(id) FROM status_reports WHERE deployment_id = ?2)
        AND state = ?3 AND coalesce(error_json, '') = coalesce(?4, '') AND components_json = ?5
      RETURNING id`).get(r.receivedAt, r.deploymentId, r.state, r.errorJson, r.componentsJson) as {id: number} | null
    if (repeated) return {id: Number(repeated.id), repeated: true}
    const res = store.db.query(`INSERT INTO status_reports (deployment_id, client_id, state, error_json, components_json, received_at)
      VALUES (?, ?, ?, ?, ?, ?) RETURNING id`).get(r.deploymentId, r.clientId, r.state, r.errorJson, r.componentsJson, r.receivedAt) as {id: number}
    store.db.query(`DELETE FROM status_reports WHERE deployment_id = ? AND id <= (
      SELECT id FROM status_reports WHERE deployment_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`).run(r.deploymentId, r.deploymentId, Math.max(1, retention))
    return {id: Number(res.id), repeated: false}
  })
}
