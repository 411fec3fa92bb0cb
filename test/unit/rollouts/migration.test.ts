import {afterEach, expect, test} from 'bun:test'
import {Database} from 'bun:sqlite'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {MIGRATIONS} from '../../../src/server/store/schema.ts'
import {Store} from '../../../src/server/store/store.ts'
import {getRolloutByName, listRevisions, listRollouts} from '../../../src/server/store/rollouts-repo.ts'

const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true}) })

/** A database as the server before named rollouts left it: every migration before theirs. */
const BEFORE_NAMES = MIGRATIONS.findIndex(m => typeof m === 'string' && m.includes('CREATE TABLE rollout_revisions'))

function oldDatabase(): string {
  const dir = mkdtempSync(join(tmpdir(), 'margo-migration-'))
  dirs.push(dir)
  const path = join(dir, 'margo.db')
  const db = new Database(path, {create: true})
  for (const [i, step] of MIGRATIONS.slice(0, BEFORE_NAMES).entries()) {
    db.exec(step as string)
    db.exec(`PRAGMA user_version = ${i + 1}`)
  }
  const client = db.query(`INSERT INTO clients (client_id, fingerprint, certificate_pem, subject, key_type, not_after, enrollment, onboarded_at, labels_json)
    VALUES (?, ?, '', 'CN=x', 'p256', '2030-01-01', 'active', '2025-01-01', ?)`)
  client.run('dev-1', 'sha256:1', '{"site":"a"}')
  client.run('dev-2', 'sha256:2', '{"site":"b"}')
  const rollout = db.query(`INSERT INTO rollouts (rollout_id, app_id, app_version, selector, devices_json, profile, values_json, created_at, updated_at, deleted)
    VALUES (?, ?, NULL, ?, ?, NULL, ?, ?, ?, ?)`)
  // Three live rollouts of one app: a wide selector, then two device lists that stack on dev-1.
  rollout.run('r-wide', 'hello', 'site=a', '[]', '{}', '2025-01-01T00:00:01Z', '2025-01-01T00:00:01Z', 0)
  rollout.run('r-pinned', 'hello', null, '["dev-1","dev-2"]', '{"greeting":"Pinned"}', '2025-01-01T00:00:02Z', '2025-01-01T00:00:02Z', 0)
  rollout.run('r-old', 'hello', null, '["dev-1"]', '{}', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z', 1)
  rollout.run('r-other', 'other-app', '', '[]', '{}', '2025-01-01T00:00:03Z', '2025-01-01T00:00:03Z', 0)
  // The newest (r-pinned) had taken dev-1's deployment over, as the old model did.
  const dep = db.query(`INSERT INTO deployments (deployment_id, client_id, app_id, app_version, profile_id, profile_type, values_json, digest, desired, created_at, updated_at, rollout_id)
    VALUES (?, ?, 'hello', '1.0', 'p', 'compose', '{}', 'sha256:x', 'present', '2025-01-01', '2025-01-01', ?)`)
  dep.run('dep-1', 'dev-1', 'r-pinned')
  dep.run('dep-2', 'dev-2', 'r-pinned')
  db.close()
  return path
}

test('existing rollouts get names and revision 1; stacked ones are resolved and reported, never dropped', () => {
  const store = new Store(oldDatabase())
  try {
    const live = listRollouts(store)
    expect(live.map(r => [r.rolloutId, r.name, r.revision])).toEqual([['r-wide', 'hello', 1], ['r-pinned', 'hello-2', 1], ['r-other', 'other-app', 1]])
    expect(getRolloutByName(store, 'hello')!.rolloutId).toBe('r-wide')
    expect(listRevisions(store, 'r-pinned')).toEqual([expect.objectContaining({revision: 1, actor: 'operator', cause: 'migrated', values: {greeting: 'Pinned'}})])
    // dev-1 stays with r-pinned, which runs its deployment; the selector cannot be narrowed, so it is reported.
    expect(getRolloutByName(store, 'hello-2')!.devices).toEqual(['dev-1', 'dev-2'])
    expect(store.migrationNotes).toEqual([expect.stringContaining('device dev-1 matches rollouts hello-2 and hello of hello: it stays with hello-2')])
    const notes = store.db.query('SELECT subject, message FROM migration_notes').all() as {subject: string, message: string}[]
    expect(notes).toEqual([{subject: 'r-wide', message: store.migrationNotes[0]!}])
    // Deployments are untouched.
    expect(store.listDeployments({desired: 'present'}).map(d => d.deploymentId)).toEqual(['dep-1', 'dep-2'])
  } finally {
    store.close()
  }
})

test('listed devices stacked on two rollouts are taken off the list of the one that does not run them', () => {
  const path = oldDatabase()
  const db = new Database(path)
  db.exec(`UPDATE rollouts SET selector = NULL, devices_json = '["dev-1"]' WHERE rollout_id = 'r-wide'`)
  db.close()
  const store = new Store(path)
  try {
    expect(getRolloutByName(store, 'hello')!.devices).toEqual([])
    expect(listRevisions(store, 'r-wide')[0]!.devices).toEqual([])
    expect(store.migrationNotes).toEqual([expect.stringContaining('it stays with hello-2 and was taken off hello\'s device list (which now targets no device')])
    // A second open migrates nothing more.
    store.close()
    const again = new Store(path)
    expect(again.migrationNotes).toEqual([])
    again.close()
  } catch (err) {
    store.close()
    throw err
  }
})
