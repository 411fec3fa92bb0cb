import {afterAll, expect, test} from 'bun:test'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PostgresDatabase} from '../../src/server/store/postgres/database.ts'
import {HELLO_WORLD} from '../server/harness.ts'
import {TEST_DATABASE_URL} from '../server/test-database.ts'
import {acceptedVersions, cli, eventually, margoScript, operatorApi, startAgent, startServe} from './binary.ts'

// The target is a PostgreSQL database of its own (MARGO_TEST_DATABASE_URL names the cluster).
const onPostgres = test.skipIf(!TEST_DATABASE_URL)
const work = mkdtempSync(join(tmpdir(), 'margo-db-migrate-e2e-'))
const database = `migrate_e2e_${crypto.randomUUID().slice(0, 8)}`
const running: {stop(): Promise<number>}[] = []
/** Runs SQL on the cluster's own database (creating and dropping the test's database). */
function admin(sql: string) {
  const db = new PostgresDatabase(TEST_DATABASE_URL!)
  try { db.exec(sql) } finally { db.close() }
}
afterAll(async () => {
  for (const p of running) await p.stop().catch(() => 0)
  if (TEST_DATABASE_URL) admin(`DROP DATABASE IF EXISTS ${database}`)
  rmSync(work, {recursive: true, force: true})
})

onPostgres('a live SQLite fleet moves to PostgreSQL: the agent goes on with the same clientId and takes the next manifest, no onboarding', async () => {
  admin(`CREATE DATABASE ${database}`)
  const url = TEST_DATABASE_URL!.replace(/\/[^/?]*(\?.*)?$/, `/${database}$1`)
  let server = await startServe(['--enrollment', 'auto'])
  running.push({stop: () => server.stop()})
  const {port, dataDir} = server
  expect(cli(dataDir, 'app', 'publish', HELLO_WORLD).code).toBe(0)
  const agent = startAgent(server, join(work, 'agent'), {}, ['--simulate-drivers'])
  running.push({stop: () => agent.stop()})
  const clientId = await eventually('the device to onboard', () => {
    const devices = cli(dataDir, 'device', 'list', '--json').json<{clientId: string, capabilities: unknown}[]>()
    return devices[0]?.capabilities ? devices[0].clientId : undefined
  })
  const first = cli(dataDir, 'deploy', 'com-northstartida-hello-world', '--device', clientId, '--json').json<{deploymentId: string}>()
  await eventually('the deployment installed', async () => (await operatorApi<{status: {state: string} | null}>(server, `/deployments/${first.deploymentId}`)).status?.state === 'installed' || undefined)
  const before = Math.max(...acceptedVersions(agent))

  // Refused while the server runs; nothing is written to the target.
  const live = margoScript(['db', 'migrate', '--to', url, '--data-dir', dataDir])
  expect(live.code).toBe(1)
  expect(live.stderr).toMatch(/^error: margo serve \(pid \d+\) is running on \S+ — stop it before migrating/)

  await server.stop()
  const moved = margoScript(['db', 'migrate', '--to', url, '--data-dir', dataDir])
  expect(moved.stderr).toBe('')
  expect(moved.code).toBe(0)
  expect(moved.stdout).toContain('clients\t1\n')
  const again = margoScript(['db', 'migrate', '--to', url, '--data-dir', dataDir])
  expect(again.code).toBe(2)
  expect(again.stderr.trim().split('\n')).toHaveLength(1)
  expect(again.stderr).toContain('refusing to migrate: the PostgreSQL database already holds margo data')

  // Same port, same data dir (TLS material, operator token, secrets key), the database elsewhere.
  server = await startServe(['--enrollment', 'auto', '--database', url], dataDir, `127.0.0.1:${port}`)
  expect(cli(dataDir, 'device', 'list', '--json').json<{clientId: string}[]>().map(d => d.clientId)).toEqual([clientId])
  const second = await operatorApi<{deploymentId: string}>(server, '/deployments', {appId: 'com-northstartida-hello-world', clientId, profile: 'helm.v3', values: {greeting: 'on PostgreSQL'}})
  await eventually('the device to accept the next manifest from PostgreSQL', () => acceptedVersions(agent).includes(before + 1) || undefined, 30000)
  await eventually('the new deployment reported installed', async () => (await operatorApi<{status: {state: string} | null}>(server, `/deployments/${second.deploymentId}`)).status?.state === 'installed' || undefined)
  expect(agent.log().match(/"event":"onboarding\.accepted"/g)).toHaveLength(1)
  expect(agent.log()).not.toContain('sync.rejected_rollback')
  expect(agent.log()).not.toContain('"securityEvent":true')
}, 120000)
