import type {Store} from './store.ts'
import type {RunState} from '../rollouts/strategy/decide.ts'
import type {WindowDef} from '../rollouts/strategy/windows.ts'

/** SQL for staged rollouts: the run of a rollout's current revision, admissions, and update windows. */

export interface Admission {
  clientId: string
  runKey: string
  admittedAt: string
  skipped: {rule: string, code?: 'unresolved_template'} | null
}

export function getRun(store: Store, rolloutId: string): RunState | null {
  const row = store.db.query('SELECT state_json FROM rollout_runs WHERE rollout_id = ?').get(rolloutId) as {state_json: string} | null
  return row ? JSON.parse(row.state_json) as RunState : null
}

export function putRun(store: Store, rolloutId: string, state: RunState, at: string) {
  store.db.query(`INSERT INTO rollout_runs (rollout_id, state_json, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (rollout_id) DO UPDATE SET state_json = excluded.state_json, updated_at = excluded.updated_at`).run(rolloutId, JSON.stringify(state), at)
}

/** Admissions of a rollout in one run, by client id. */
export function listAdmissions(store: Store, rolloutId: string, runKey: string): Map<string, Admission> {
  const rows = store.db.query('SELECT client_id, run_key, admitted_at, skipped_json FROM rollout_admissions WHERE rollout_id = ? AND run_key = ?').all(rolloutId, runKey) as {client_id: string, run_key: string, admitted_at: string, skipped_json: string | null}[]
  return new Map(rows.map(r => [r.client_id, {clientId: r.client_id, runKey: r.run_key, admittedAt: r.admitted_at, skipped: r.skipped_json ? JSON.parse(r.skipped_json) : null}]))
}

export function getAdmission(store: Store, rolloutId: string, clientId: string): Admission | null {
  const r = store.db.query('SELECT client_id, run_key, admitted_at, skipped_json FROM rollout_admissions WHERE rollout_id = ? AND client_id = ?').get(rolloutId, clientId) as {client_id: string, run_key: string, admitted_at: string, skipped_json: string | null} | null
  return r ? {clientId: r.client_id, runKey: r.run_key, admittedAt: r.admitted_at, skipped: r.skipped_json ? JSON.parse(r.skipped_json) : null} : null
}

export function putAdmission(store: Store, rolloutId: string, a: Admission) {
  store.db.query(`INSERT INTO rollout_admissions (rollout_id, client_id, run_key, admitted_at, skipped_json) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (rollout_id, client_id) DO UPDATE SET run_key = excluded.run_key, admitted_at = excluded.admitted_at, skipped_json = excluded.skipped_json`)
    .run(rolloutId, a.clientId, a.runKey, a.admittedAt, a.skipped ? JSON.stringify(a.skipped) : null)
}

export function listWindows(store: Store): (WindowDef & {createdAt: string})[] {
  const rows = store.db.query('SELECT * FROM update_windows ORDER BY name').all() as {name: string, selector: string, schedule: string, duration_ms: number, time_zone: string, created_at: string}[]
  return rows.map(r => ({name: r.name, selector: r.selector, schedule: r.schedule, durationMs: r.duration_ms, timeZone: r.time_zone, createdAt: r.created_at}))
}

export function insertWindow(store: Store, w: WindowDef, at: string) {
  store.db.query('INSERT INTO update_windows (name, selector, schedule, duration_ms, time_zone, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(w.name, w.selector, w.schedule, w.durationMs, w.timeZone, at)
}

export function deleteWindow(store: Store, name: string): boolean {
  return store.db.query('DELETE FROM update_windows WHERE name = ?').run(name).changes > 0
}

/**
 * The latest report of each deployment of a rollout (or its latest `failed` one): one query for
 * the whole rollout.
 */
export function latestRolloutStatus(store: Store, rolloutId: string, options: {failed?: boolean} = {}): Map<string, {state: string, at: string, errorJson: string | null}> {
  const only = options.failed ? `AND r.state = 'failed'` : ''
  const rows = store.db.query(`SELECT s.deployment_id, s.state, s.error_json, s.received_at, s.last_received_at
    FROM status_reports s
    JOIN (SELECT r.deployment_id, MAX(r.id) AS id FROM status_reports r JOIN deployments d ON d.deployment_id = r.deployment_id
          WHERE d.rollout_id = ? ${only} GROUP BY r.deployment_id) latest ON latest.id = s.id`).all(rolloutId) as {deployment_id: string, state: string, error_json: string | null, received_at: string, last_received_at: string | null}[]
  return new Map(rows.map(r => [r.deployment_id, {state: r.state, at: r.last_received_at ?? r.received_at, errorJson: r.error_json}]))
}
