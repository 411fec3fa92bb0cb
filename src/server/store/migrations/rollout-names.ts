/**
 * Rollouts before names and revisions: each gets a name (its app's id, or the id with `-2`,
 * `-3`… when one app has several) and revision 1 holding its settings at migration time.
 *
 * Several live rollouts of one app could target the same device; only one of them ran the
 * device's deployment and the others took it over when that one was deleted. Each device
 * stays with the rollout that runs its deployment (else the oldest): a listed device is taken
 * off the other rollouts' lists; a selector cannot be narrowed here, so the device is reported
 * and the other rollout shows it as skipped. Every such change is logged and kept in
 * `migration_notes`.
 */
import type {SqlDatabase as Database} from '../engine.ts'
import {defaultNamespace} from '../../deployments/names.ts'
import {matchesSelector, parseSelector} from '../../../operator-contract/selector.ts'

const MIGRATION = 6

interface Row {
  rollout_id: string
  app_id: string
  selector: string | null
  devices_json: string
  app_version: string | null
  profile: string | null
  values_json: string
  created_at: string
  updated_at: string
  deleted: number
}

function inScope(r: Row & {devices: string[]}, clientId: string, labels: Record<string, string>): boolean {
  if (r.selector === null) return r.devices.includes(clientId)
  const parsed = parseSelector(r.selector)
  return parsed.ok && matchesSelector(parsed.selector, labels)
}

export function nameRollouts(db: Database): string[] {
  const now = new Date().toISOString()
  const notes: string[] = []
  const note = (subject: string, message: string) => {
    notes.push(message)
    db.query('INSERT INTO migration_notes (migration, subject, message, created_at) VALUES (?, ?, ?, ?)').run(MIGRATION, subject, message, now)
  }
  const rows = (db.query('SELECT * FROM rollouts ORDER BY deleted, created_at, rollout_id').all() as Row[])
    .map(r => ({...r, devices: JSON.parse(r.devices_json) as string[]}))

  // Live rollouts claim names first, so a live one keeps the plain app id.
  const used = new Set<string>()
  const nameOf = new Map<string, string>()
  for (const r of rows) {
    const base = defaultNamespace(r.app_id)
    let name = base
    for (let n = 2; r.deleted === 0 && used.has(name); n++) name = `${base.slice(0, 60 - String(n).length)}-${n}`
    if (r.deleted === 0) used.add(name)
    nameOf.set(r.rollout_id, name)
    db.query('UPDATE rollouts SET name = ? WHERE rollout_id = ?').run(name, r.rollout_id)
  }

  // Stacked rollouts: the device stays with its deployment's rollout, else the oldest.
  const live = rows.filter(r => r.deleted === 0)
  const clients = db.query('SELECT client_id, labels_json FROM clients ORDER BY client_id').all() as {client_id: string, labels_json: string}[]
  for (const appId of new Set(live.map(r => r.app_id))) {
    const ofApp = live.filter(r => r.app_id === appId)
    if (ofApp.length < 2) continue
    for (const c of clients) {
      const labels = JSON.parse(c.labels_json) as Record<string, string>
      const reaching = ofApp.filter(r => inScope(r, c.client_id, labels))
      if (reaching.length < 2) continue
      const running = db.query(`SELECT rollout_id FROM deployments WHERE client_id = ? AND app_id = ? AND desired = 'present' AND rollout_id IS NOT NULL`)
        .all(c.client_id, appId) as {rollout_id: string}[]
      const owner = reaching.find(r => running.some(x => x.rollout_id === r.rollout_id)) ?? reaching[0]!
      for (const other of reaching) {
        if (other === owner) continue
        if (other.selector === null) {
          other.devices = other.devices.filter(d => d !== c.client_id)
          note(other.rollout_id, `device ${c.client_id} was targeted by rollouts ${nameOf.get(owner.rollout_id)} and ${nameOf.get(other.rollout_id)} of ${appId}: it stays with ${nameOf.get(owner.rollout_id)} and was taken off ${nameOf.get(other.rollout_id)}'s device list${other.devices.length === 0 ? ` (which now targets no device: margo undeploy ${nameOf.get(other.rollout_id)}, or deploy it to other devices)` : ''}`)
        } else {
          note(other.rollout_id, `device ${c.client_id} matches rollouts ${nameOf.get(owner.rollout_id)} and ${nameOf.get(other.rollout_id)} of ${appId}: it stays with ${nameOf.get(owner.rollout_id)}; ${nameOf.get(other.rollout_id)} (selector ${JSON.stringify(other.selector)}) reports it as skipped — narrow one of the selectors`)
        }
      }
    }
  }

  for (const r of rows) {
    db.query('UPDATE rollouts SET devices_json = ?, revision = 1 WHERE rollout_id = ?').run(JSON.stringify(r.devices), r.rollout_id)
    db.query(`INSERT INTO rollout_revisions (rollout_id, revision, app_version, selector, devices_json, profile, values_json, actor, cause, created_at)
      VALUES (?, 1, ?, ?, ?, ?, ?, 'operator', 'migrated', ?)`)
      .run(r.rollout_id, r.app_version, r.selector, JSON.stringify(r.devices), r.profile, r.values_json, r.updated_at)
  }
  return notes
}
