import type {Store} from './store.ts'
import type {RevisionRecord} from '../rollouts/revisions.ts'
import type {SetForRequest} from '../../operator-contract/strategy.ts'
import type {Strategy} from '../rollouts/strategy/spec.ts'

/**
 * SQL for rollouts (table `rollouts`) and the link from a deployment to the rollout that owns
 * it (`deployments.rollout_id`). Kept beside the Store rather than in it: the Store's methods
 * stay the core ones, and fleet features add their own narrow queries here.
 */

export interface RolloutRecord {
  rolloutId: string
  /** Its identity for operators: a DNS label, unique among live rollouts. */
  name: string
  /** The current revision's number. */
  revision: number
  appId: string
  /** null: the latest published version at each evaluation. */
  appVersion: string | null
  /** Label selector text; null when the rollout lists its devices. `''` selects every device. */
  selector: string | null
  devices: string[]
  profile: string | null
  /** What the operator set; the app's defaults fill in the rest per device. */
  values: Record<string, unknown>
  /** Per-device value overrides by selector, in order. */
  setFor?: SetForRequest[]
  /** How the rollout is staged; null or absent: every device at once. */
  strategy?: Strategy | null
  createdAt: string
  updatedAt: string
  deleted: boolean
}

interface Row {
  rollout_id: string
  name: string
  revision: number
  app_id: string
  app_version: string | null
  selector: string | null
  devices_json: string
  profile: string | null
  values_json: string
  set_for_json: string
  strategy_json: string | null
  created_at: string
  updated_at: string
  deleted: number
}

const toRecord = (r: Row): RolloutRecord => ({
  rolloutId: r.rollout_id,
  name: r.name,
  revision: r.revision,
  appId: r.app_id,
  appVersion: r.app_version,
  selector: r.selector,
  devices: JSON.parse(r.devices_json) as string[],
  profile: r.profile,
  values: JSON.parse(r.values_json) as Record<string, unknown>,
  setFor: JSON.parse(r.set_for_json) as SetForRequest[],
  strategy: r.strategy_json ? JSON.parse(r.strategy_json) as Strategy : null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deleted: r.deleted !== 0,
})

export function insertRollout(store: Store, r: RolloutRecord) {
  store.db.query(`INSERT INTO rollouts (rollout_id, name, revision, app_id, app_version, selector, devices_json, profile, values_json, set_for_json, strategy_json, created_at, updated_at, deleted)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(r.rolloutId, r.name, r.revision, r.appId, r.appVersion, r.selector, JSON.stringify(r.devices), r.profile, JSON.stringify(r.values), JSON.stringify(r.setFor ?? []), r.strategy ? JSON.stringify(r.strategy) : null, r.createdAt, r.updatedAt, r.deleted ? 1 : 0)
}

export function updateRollout(store: Store, r: RolloutRecord) {
  store.db.query(`UPDATE rollouts SET revision = ?, app_version = ?, selector = ?, devices_json = ?, profile = ?, values_json = ?, set_for_json = ?, strategy_json = ?, updated_at = ?, deleted = ?
    WHERE rollout_id = ?`)
    .run(r.revision, r.appVersion, r.selector, JSON.stringify(r.devices), r.profile, JSON.stringify(r.values), JSON.stringify(r.setFor ?? []), r.strategy ? JSON.stringify(r.strategy) : null, r.updatedAt, r.deleted ? 1 : 0, r.rolloutId)
}

export function getRollout(store: Store, rolloutId: string): RolloutRecord | null {
  const row = store.db.query('SELECT * FROM rollouts WHERE rollout_id = ?').get(rolloutId) as Row | null
  return row ? toRecord(row) : null
}

/** The live rollout with this name. */
export function getRolloutByName(store: Store, name: string): RolloutRecord | null {
  const row = store.db.query('SELECT * FROM rollouts WHERE name = ? AND deleted = 0').get(name) as Row | null
  return row ? toRecord(row) : null
}

/** Deleted rollouts with this name, newest first: what `undeploy --forget` may still clean up. */
export function deletedRolloutsByName(store: Store, name: string): RolloutRecord[] {
  return (store.db.query('SELECT * FROM rollouts WHERE name = ? AND deleted = 1 ORDER BY updated_at DESC, rollout_id').all(name) as Row[]).map(toRecord)
}

/** Live rollouts (not deleted), oldest first; optionally of one app. */
export function listRollouts(store: Store, filter: {appId?: string} = {}): RolloutRecord[] {
  const rows = filter.appId
    ? store.db.query('SELECT * FROM rollouts WHERE deleted = 0 AND app_id = ? ORDER BY created_at, rollout_id').all(filter.appId)
    : store.db.query('SELECT * FROM rollouts WHERE deleted = 0 ORDER BY created_at, rollout_id').all()
  return (rows as Row[]).map(toRecord)
}

export function linkDeployment(store: Store, deploymentId: string, rolloutId: string | null) {
  store.db.query('UPDATE deployments SET rollout_id = ? WHERE deployment_id = ?').run(rolloutId, deploymentId)
}

/** deploymentId → rolloutId (or null) for a device's deployments that are still present. */
export function rolloutLinks(store: Store, clientId: string): Map<string, string | null> {
  const rows = store.db.query(`SELECT deployment_id, rollout_id FROM deployments WHERE client_id = ? AND desired = 'present'`).all(clientId) as {deployment_id: string, rollout_id: string | null}[]
  return new Map(rows.map(r => [r.deployment_id, r.rollout_id]))
}

/** deploymentId → rolloutId (or null) for every present deployment of an app, on any device. */
export function appRolloutLinks(store: Store, appId: string): Map<string, string | null> {
  const rows = store.db.query(`SELECT deployment_id, rollout_id FROM deployments WHERE app_id = ? AND desired = 'present'`).all(appId) as {deployment_id: string, rollout_id: string | null}[]
  return new Map(rows.map(r => [r.deployment_id, r.rollout_id]))
}

/** Ids of the deployments a rollout owns, present ones unless `all`. */
export function rolloutDeploymentIds(store: Store, rolloutId: string, options: {all?: boolean} = {}): string[] {
  const sql = `SELECT deployment_id FROM deployments WHERE rollout_id = ? ${options.all ? '' : `AND desired = 'present'`} ORDER BY created_at, deployment_id`
  return (store.db.query(sql).all(rolloutId) as {deployment_id: string}[]).map(r => r.deployment_id)
}

interface RevisionRow {
  rollout_id: string
  revision: number
  app_version: string | null
  selector: string | null
  devices_json: string
  profile: string | null
  values_json: string
  set_for_json: string
  actor: string
  cause: string | null
  created_at: string
}

const toRevision = (r: RevisionRow): RevisionRecord => ({
  rolloutId: r.rollout_id,
  revision: r.revision,
  appVersion: r.app_version,
  selector: r.selector,
  devices: JSON.parse(r.devices_json) as string[],
  profile: r.profile,
  values: JSON.parse(r.values_json) as Record<string, unknown>,
  setFor: JSON.parse(r.set_for_json) as SetForRequest[],
  actor: r.actor,
  cause: r.cause,
  createdAt: r.created_at,
})

export function insertRevision(store: Store, r: RevisionRecord) {
  store.db.query(`INSERT INTO rollout_revisions (rollout_id, revision, app_version, selector, devices_json, profile, values_json, set_for_json, actor, cause, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(r.rolloutId, r.revision, r.appVersion, r.selector, JSON.stringify(r.devices), r.profile, JSON.stringify(r.values), JSON.stringify(r.setFor ?? []), r.actor, r.cause, r.createdAt)
}

/** A rollout's revisions, oldest first. */
export function listRevisions(store: Store, rolloutId: string): RevisionRecord[] {
  return (store.db.query('SELECT * FROM rollout_revisions WHERE rollout_id = ? ORDER BY revision').all(rolloutId) as RevisionRow[]).map(toRevision)
}

/** Marks a removed deployment as dropped from the fleet view without the device's confirmation. */
export function forgetDeployment(store: Store, deploymentId: string, at: string) {
  store.db.query(`UPDATE deployments SET forgotten_at = ? WHERE deployment_id = ? AND desired = 'absent' AND forgotten_at IS NULL`).run(at, deploymentId)
}

/** The rollout a deployment belongs to, if any. */
export function rolloutOfDeployment(store: Store, deploymentId: string): string | null {
  const row = store.db.query('SELECT rollout_id FROM deployments WHERE deployment_id = ?').get(deploymentId) as {rollout_id: string | null} | null
  return row?.rollout_id ?? null
}
