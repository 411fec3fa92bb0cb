import type {Store} from './store.ts'

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
