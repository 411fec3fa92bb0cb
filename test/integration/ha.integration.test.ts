import {afterAll, beforeAll, describe, expect, test} from 'bun:test'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Subprocess} from 'bun'
import {randomBytes} from 'node:crypto'
import postgres from 'postgres'
import {HELLO_WORLD} from '../server/harness.ts'
import {BIN, ensureBinary, eventually, type ServeProcess, startServe} from '../e2e/binary.ts'
import {freePort, type PostgresCluster, postgresBinDir, startPostgresCluster} from './postgres-cluster.ts'

/**
 * High availability on PostgreSQL, end to end: a private PostgreSQL cluster, two `margo serve`
 * nodes sharing it (and their TLS material, operator token and secret key), nginx as a TCP
 * balancer in front. Twenty simulated devices poll through the balancer; a staged rollout
 * starts; the node running the controllers is killed with SIGKILL mid-rollout. The other node
 * takes them over, the devices keep working through it, the rollout completes, every status
 * report a device saw acknowledged is in the database, and `margo status --watch` through the
 * balancer goes on printing. Then `margo backup` of the live database, `margo restore` into a new
 * empty one, and a node serving the restored fleet.
 *
 * Enabled when initdb/pg_ctl and nginx with its stream module are installed, or with
 * MARGO_INTEGRATION=1 (test/integration/setup-postgres.sh installs them first, as root).
 */
const SETUP = join(import.meta.dir, 'setup-postgres.sh')
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so'
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find(existsSync)
const APP = 'com-northstartida-hello-world'
const DEVICES = 20

const requested = process.env.MARGO_INTEGRATION === '1'
const installed = () => postgresBinDir() !== null && ['/usr/sbin/nginx', '/usr/bin/nginx'].some(existsSync) && existsSync(STREAM_MODULE)
const enabled = requested || installed()
if (!enabled) console.log('HA integration test skipped: install postgresql, nginx and libnginx-mod-stream (test/integration/setup-postgres.sh, as root) or set MARGO_INTEGRATION=1')

interface Overview {deployments: {byState: Record<string, number>}}

function spawnLines(argv: string[], onLine: (line: string) => void): Subprocess<'ignore', 'pipe', 'pipe'> {
  const proc = Bun.spawn(argv, {stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'}})
  void (async () => {
    let buffered = ''
    for await (const chunk of proc.stdout) {
      buffered += new TextDecoder().decode(chunk)
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        onLine(buffered.slice(0, nl))
        buffered = buffered.slice(nl + 1)
      }
    }
  })()
  return proc
}

describe.skipIf(!enabled)('two serve nodes on one PostgreSQL behind nginx', () => {
  const work = mkdtempSync(join(tmpdir(), 'margo-ha-it-'))
  let pg: PostgresCluster | undefined
  let nginx: Subprocess | undefined
  const nodes: ServeProcess[] = []
  const others: Subprocess[] = []
  let balancer = ''
  let token = ''
  let ca = ''

  beforeAll(async () => {
    if (requested && !installed()) {
      const setup = Bun.spawnSync(['sh', SETUP], {stdout: 'pipe', stderr: 'pipe'})
      if (setup.exitCode !== 0) throw new Error(`setup-postgres.sh failed:\n${setup.stderr.toString()}`)
    }
    ensureBinary()
    pg = await startPostgresCluster()
    const port = await freePort()
    balancer = `https://127.0.0.1:${port}`
    // Devices sign the URL they call: the balancer's, which each node must take as its own.
    const nodeArgs = ['--database', pg.url, '--workers', '1', '--enrollment', 'auto', '--log-level', 'info', '--external-url', balancer]
    // Each node's own port (its printed URL is the external one, the balancer's).
    const ports = [await freePort(), await freePort()]
    const first = await startServe(nodeArgs, join(work, 'a'), `127.0.0.1:${ports[0]}`)
    nodes.push(first)
    // Stateless nodes: the second gets the first one's TLS material, operator token and secret key.
    const second = join(work, 'b')
    mkdirSync(second, {mode: 0o700})
    cpSync(join(first.dataDir, 'tls'), join(second, 'tls'), {recursive: true})
    for (const f of ['operator-token', 'secret.key']) cpSync(join(first.dataDir, f), join(second, f))
    nodes.push(await startServe(nodeArgs, second, `127.0.0.1:${ports[1]}`))
    token = readFileSync(join(first.dataDir, 'operator-token'), 'utf8').trim()
    ca = join(first.dataDir, 'tls/ca.pem')

    const conf = join(work, 'nginx.conf')
    writeFileSync(conf, `load_module ${STREAM_MODULE};
daemon off;
worker_processes 1;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log warn;
events { worker_connections 1024; }
stream {
  upstream margo {
    server 127.0.0.1:${ports[0]} max_fails=1 fail_timeout=10s;
    server 127.0.0.1:${ports[1]} max_fails=1 fail_timeout=10s;
  }
  server {
    listen 127.0.0.1:${port};
    proxy_pass margo;
    proxy_connect_timeout 1s;
    proxy_next_upstream on;
  }
}
`)
    nginx = Bun.spawn([NGINX!, '-p', work, '-c', conf, '-e', join(work, 'nginx-error.log')], {stdin: 'ignore', stdout: 'ignore', stderr: 'pipe'})
    let lastError = ''
    await eventually('nginx to listen', async () => {
      try {
        const res = await fetch(`${balancer}/operator/v1/health`, {headers: {authorization: `Bearer ${token}`}, tls: {ca: readFileSync(ca, 'utf8')}})
        lastError = `HTTP ${res.status}`
        return res.ok ? true : undefined
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err)
        return undefined
      }
    }, 10_000).catch(err => { throw new Error(`${(err as Error).message}: ${lastError}\n${readFileSync(join(work, "nginx-error.log"), "utf8")}`) })
  }, 60_000)

  afterAll(async () => {
    for (const p of others) p.kill('SIGTERM')
    for (const n of nodes) await n.stop().catch(() => 0)
    nginx?.kill('SIGTERM')
    await nginx?.exited
    pg?.stop()
    rmSync(work, {recursive: true, force: true})
  })

  const operator = (...args: string[]) => {
    const r = Bun.spawnSync([BIN, ...args, '--server', balancer, '--token', token, '--ca-file', ca], {stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'}})
    return {code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString()}
  }
  const deployments = async () => {
    const res = await fetch(`${balancer}/operator/v1/deployments?appId=${APP}`, {headers: {authorization: `Bearer ${token}`}, tls: {ca: readFileSync(ca, 'utf8')}})
    return ((await res.json()) as {deployments: {clientId: string, status: {state: string} | null}[]}).deployments
  }
  const holder = () => nodes.findIndex(n => /"event":"lease\.acquired"/.test(n.stderr()))

  test('a node killed mid-rollout: the other serves the devices, takes the controllers over, and the rollout completes', async () => {
    expect(operator('app', 'publish', HELLO_WORLD).code).toBe(0)
    const fleet = Bun.spawn([BIN, 'simulate', '--server', balancer, '--ca-file', ca, '--token', token, '--devices', String(DEVICES), '--poll-interval', '1s',
      '--apply-time', '500ms..1500ms', '--labels', 'fleet=ha', '--json', '--log-level', 'debug'], {stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: {...process.env, NO_COLOR: '1'}})
    others.push(fleet)
    // Every status report a device saw acknowledged (its agent logs status.sent only after a 2xx).
    const acknowledged: {deploymentId: string, state: string}[] = []
    void (async () => {
      let buffered = ''
      for await (const chunk of fleet.stderr) {
        buffered += new TextDecoder().decode(chunk)
        const lines = buffered.split('\n')
        buffered = lines.pop()!
        for (const line of lines) {
          if (!line.includes('"event":"status.sent"')) continue
          try { acknowledged.push(JSON.parse(line) as {deploymentId: string, state: string}) } catch { /* not a log line */ }
        }
      }
    })()
    await eventually('20 devices onboarded and labelled', () => {
      const list = JSON.parse(operator('device', 'list', '--json').stdout || '[]') as {labels: Record<string, string>, capabilities: unknown}[]
      return list.length === DEVICES && list.every(d => d.labels.fleet === 'ha' && d.capabilities) ? true : undefined
    }, 30_000)

    const views: {at: number, view: Overview}[] = []
    const watch = spawnLines([BIN, 'status', '--watch', '--json', '--server', balancer, '--token', token, '--ca-file', ca], line => {
      try { views.push({at: Date.now(), view: JSON.parse(line) as Overview}) } catch { /* a partial line */ }
    })
    others.push(watch)
    await eventually('the first view through the balancer', () => (views.length > 0 ? true : undefined), 10_000)

    const deploy = operator('deploy', APP, '--selector', 'fleet=ha', '--wave', '2', '--wave', '50%', '--wave', '100%', '--pause-between', '1s')
    expect(deploy.code).toBe(0)
    await eventually('the first wave installed', async () => ((await deployments()).filter(d => d.status?.state === 'installed').length >= 2 ? true : undefined), 20_000)

    const victim = holder()
    expect(victim).toBeGreaterThanOrEqual(0)
    const survivor = nodes[1 - victim]!
    const installedBefore = (await deployments()).filter(d => d.status?.state === 'installed').length
    expect(installedBefore).toBeLessThan(DEVICES)
    const killedAt = Date.now()
    nodes[victim]!.proc.kill('SIGKILL')
    await nodes[victim]!.proc.exited

    const failoverMs = await eventually('the other node to take the controllers over', () =>
      (/"event":"lease\.acquired"/.test(survivor.stderr()) ? Date.now() - killedAt : undefined), 15_000)
    expect(failoverMs).toBeLessThan(10_000)
    console.log(`controller failover: ${failoverMs} ms after SIGKILL`)

    await eventually(`all ${DEVICES} devices installed through the surviving node`, async () => {
      const all = await deployments()
      return all.length === DEVICES && all.every(d => d.status?.state === 'installed') ? true : undefined
    }, 40_000)
    // The watch reconnected through the balancer and saw the end of the rollout after the kill.
    await eventually('a view after the kill with every device installed', () =>
      views.find(v => v.at > killedAt && v.view.deployments.byState.installed === DEVICES), 15_000)

    // What the devices were acknowledged is what the database holds: every device's last
    // accepted report says installed, and none of them is left behind on an older state.
    fleet.kill('SIGTERM')
    await fleet.exited
    const summary = JSON.parse(await new Response(fleet.stdout).text()) as {devices: number, states: Record<string, number>}
    expect(summary.devices).toBe(DEVICES)
    expect(summary.states.installed).toBe(DEVICES)
    expect((await deployments()).filter(d => d.status?.state === 'installed').length).toBe(DEVICES)

    // No acknowledged report is lost, whichever node took it: each is in its deployment's timeline.
    const res = await fetch(`${balancer}/operator/v1/status/${APP}`, {headers: {authorization: `Bearer ${token}`}, tls: {ca: readFileSync(ca, 'utf8')}})
    const status = await res.json() as {deployments: {deploymentId: string, timeline: {state: string}[]}[]}
    const timelines = new Map(status.deployments.map(d => [d.deploymentId, new Set(d.timeline.map(t => t.state))]))
    expect(acknowledged.length).toBeGreaterThanOrEqual(DEVICES)
    const missing = acknowledged.filter(a => !timelines.get(a.deploymentId)?.has(a.state))
    expect(missing).toEqual([])
    watch.kill('SIGTERM')
  }, 120_000)

  test('an online backup of the PostgreSQL fleet restores into an empty database, and a node serves it', async () => {
    const survivor = nodes.find(n => n.proc.exitCode === null && !n.proc.killed)!
    const url = pg!.url
    const keyFile = join(work, 'backup.key')
    writeFileSync(keyFile, randomBytes(32).toString('base64'), {mode: 0o600})
    const file = join(work, 'fleet.mbk')
    const backup = Bun.spawnSync([BIN, 'backup', file, '--database', url, '--data-dir', survivor.dataDir, '--key-file', keyFile, '--json'], {stdout: 'pipe', stderr: 'pipe'})
    expect(backup.stderr.toString()).toBe('')
    expect(backup.exitCode).toBe(0)
    expect((JSON.parse(backup.stdout.toString()) as {devices: number}).devices).toBe(DEVICES)

    // A new, empty database on the same cluster, as an operator would create for a restore drill.
    const sql = postgres(url, {max: 1, onnotice: () => {}})
    await sql.unsafe(`CREATE DATABASE restored LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`)
    await sql.end()
    const admin = new URL(url)
    admin.pathname = '/restored'
    const restoredDir = join(work, 'restored')
    const restore = Bun.spawnSync([BIN, 'restore', file, '--database', admin.href, '--data-dir', restoredDir, '--key-file', keyFile, '--json'], {stdout: 'pipe', stderr: 'pipe'})
    expect(restore.stderr.toString()).toBe('')
    expect(restore.exitCode).toBe(0)
    // Restoring again over the now non-empty database is refused, and changes nothing.
    const again = Bun.spawnSync([BIN, 'restore', file, '--database', admin.href, '--data-dir', join(work, 'restored-2'), '--key-file', keyFile], {stdout: 'pipe', stderr: 'pipe'})
    expect(again.exitCode).toBe(2)

    const node = await startServe(['--database', admin.href, '--workers', '1'], restoredDir)
    try {
      const res = await fetch(`${node.url.replace(/\/$/, '')}/operator/v1/deployments?appId=${APP}`, {headers: {authorization: `Bearer ${token}`}, tls: {ca: readFileSync(join(restoredDir, 'tls/ca.pem'), 'utf8')}})
      const restored = ((await res.json()) as {deployments: {status: {state: string} | null}[]}).deployments
      expect(restored.length).toBe(DEVICES)
      expect(restored.every(d => d.status?.state === 'installed')).toBe(true)
    } finally {
      await node.stop()
    }
  }, 60_000)
})
