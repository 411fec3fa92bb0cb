import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {existsSync, readFileSync} from 'node:fs'
import type {Subprocess} from 'bun'
import {HELLO_WORLD} from '../server/harness.ts'
import {BIN, ensureBinary, eventually, type ServeProcess, startServe} from '../e2e/binary.ts'
import {type PostgresCluster, postgresBinDir, startPostgresCluster} from './postgres-cluster.ts'

/**
 * The database goes away under a serving node: PostgreSQL is stopped the hard way and started
 * again (what a crash and restart, or a failover to a standby, look like to margo). The node
 * keeps running and recovers by itself when the database is back: the controllers, whose
 * session died, are elected again, and a rollout started afterwards reaches every device (they
 * poll, fetch and report through the same node).
 *
 * Enabled when initdb/pg_ctl are installed, or with MARGO_INTEGRATION=1.
 */
const SETUP = `${import.meta.dir}/setup-postgres.sh`
const requested = process.env.MARGO_INTEGRATION === '1'
const enabled = requested || postgresBinDir() !== null
if (!enabled) console.log('PostgreSQL restart test skipped: install postgresql (test/integration/setup-postgres.sh, as root) or set MARGO_INTEGRATION=1')
const APP = 'com-northstartida-hello-world'
const DEVICES = 5

describe.skipIf(!enabled)('a serving node when PostgreSQL restarts', () => {
  let pg: PostgresCluster
  let node: ServeProcess
  let fleet: Subprocess<'ignore', 'pipe', 'pipe'> | undefined

  beforeAll(async () => {
    if (requested && postgresBinDir() === null) {
      const setup = Bun.spawnSync(['sh', SETUP], {stdout: 'pipe', stderr: 'pipe'})
      if (setup.exitCode !== 0) throw new Error(`setup-postgres.sh failed:\n${setup.stderr.toString()}`)
    }
    ensureBinary()
    pg = await startPostgresCluster()
    node = await startServe(['--database', pg.url, '--workers', '1', '--enrollment', 'auto', '--log-level', 'info'])
  }, 60_000)

  afterAll(async () => {
    fleet?.kill('SIGTERM')
    await node?.stop().catch(() => 0)
    pg?.stop()
  })

  const token = () => readFileSync(`${node.dataDir}/operator-token`, 'utf8').trim()
  const operator = (...args: string[]) => {
    const r = Bun.spawnSync([BIN, ...args, '--data-dir', node.dataDir], {stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'}})
    return {code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString()}
  }
  const installed = async () => {
    const res = await fetch(`${node.url.replace(/\/$/, '')}/operator/v1/deployments?appId=${APP}`, {headers: {authorization: `Bearer ${token()}`}, tls: {ca: node.ca}})
    if (!res.ok) return -1
    return ((await res.json()) as {deployments: {status: {state: string} | null}[]}).deployments.filter(d => d.status?.state === 'installed').length
  }
  const acquisitions = () => (node.stderr().match(/"event":"lease\.acquired"/g) ?? []).length

  test('the node recovers by itself: devices poll again, controllers are elected again, a rollout completes', async () => {
    expect(existsSync(BIN)).toBe(true)
    expect(operator('app', 'publish', HELLO_WORLD).code).toBe(0)
    fleet = Bun.spawn([BIN, 'simulate', '--server', node.url, '--ca-file', `${node.dataDir}/tls/ca.pem`, '--data-dir', node.dataDir, '--devices', String(DEVICES),
      '--poll-interval', '1s', '--labels', 'fleet=restart', '--json'], {stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'}})
    await eventually('the devices onboarded and labelled', () => {
      const list = JSON.parse(operator('device', 'list', '--json').stdout || '[]') as {labels: Record<string, string>}[]
      return list.length === DEVICES && list.every(d => d.labels.fleet === 'restart') ? true : undefined
    }, 30_000)
    await eventually('the controllers elected', () => (acquisitions() >= 1 ? true : undefined), 10_000)
    const before = acquisitions()

    pg.restart()

    // The controllers' session died with the database: the node notices and is elected again.
    await eventually('the controllers elected again after the restart', () => (acquisitions() > before ? true : undefined), 20_000)
    expect(node.proc.exitCode).toBeNull()
    // A rollout made after the restart reaches every device through the same node.
    const deploy = operator('deploy', APP, '--selector', 'fleet=restart')
    expect(deploy.stderr).toBe('')
    expect(deploy.code).toBe(0)
    await eventually(`all ${DEVICES} devices installed after the restart`, async () => ((await installed()) === DEVICES ? true : undefined), 30_000)
    expect(node.stderr()).toContain('"event":"lease.lost"')
  }, 90_000)
})
