#!/usr/bin/env bun
/**
 * Signed 304 manifest polls against the compiled `margo serve` on loopback, driven by `wrk`
 * (Debian package `wrk`) replaying pre-signed requests, in two shapes: keep-alive connections,
 * and one new TLS connection per poll (what a device polling every few minutes does).
 *
 *   bun bench/poll.ts [--seconds 5] [--devices 64] [--connections 16] [--workers 1] [--threads 1] [--profile DIR]
 *                     [--database sqlite|postgres|both] [--reports 40]
 *
 * --database postgres runs the server on a private PostgreSQL cluster (initdb/pg_ctl, see
 * test/integration/postgres-cluster.ts); `both` measures SQLite, then PostgreSQL, in one run.
 * After the polls, every device sends --reports status reports (alternating states, so each is a
 * new timeline row: a write transaction) within its rate-limit burst, 16 at a time: reports/s.
 *
 * With --profile the server runs from source under `bun --cpu-prof-md` instead, and its
 * profile lands in DIR on exit (figures from such a run are not comparable).
 *
 * The server's CPU time comes from /proc/<pid>/stat around each run, so the figure is the
 * server's own cost whatever the load generator spends. The yardstick, timed in the same run,
 * is one raw ECDSA-P256 `crypto.verify` over a signature base of the same size: the one piece
 * of work a signed poll cannot avoid. Requests stay valid for the server's 300 s window.
 */
import {generateKeyPairSync, sign, verify} from 'node:crypto'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {signRequest, signatureBaseFor} from '../src/signing/index.ts'
import {capabilitiesBody, HELLO_WORLD, statusBody, TestDevice} from '../test/server/harness.ts'
import {startServe} from '../test/e2e/binary.ts'
import {startPostgresCluster} from '../test/integration/postgres-cluster.ts'

const {values} = parseArgs({options: {
  seconds: {type: 'string', default: '5'},
  devices: {type: 'string', default: '64'},
  connections: {type: 'string', default: '16'},
  profile: {type: 'string'},
  workers: {type: 'string', default: '1'},
  threads: {type: 'string', default: '1'},
  database: {type: 'string', default: 'sqlite'},
  reports: {type: 'string', default: '40'},
}})
const engines = values.database === 'both' ? ['sqlite', 'postgres'] as const : [values.database === 'postgres' ? 'postgres' as const : 'sqlite' as const]
const seconds = Number(values.seconds)
const deviceCount = Number(values.devices)
const connections = Number(values.connections)
const CLOCK_TICKS = 100 // USER_HZ on Linux
const work = mkdtempSync(join(tmpdir(), 'margo-bench-poll-'))

if (Bun.spawnSync(['sh', '-c', 'command -v wrk']).exitCode !== 0) {
  console.error('wrk is required: apt-get install -y wrk')
  process.exit(2)
}

const ownCpuSeconds = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(stat[11]) + Number(stat[12])) / CLOCK_TICKS
}
/** The server's CPU: the primary and its workers (`serve --workers`). */
const cpuSeconds = (pid: number) => {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  return [pid, ...children].reduce((sum, p) => sum + ownCpuSeconds(p), 0)
}

/** Microseconds for one raw P-256 verify of `base`, the crypto bound of one signed poll. */
function rawVerifyMicros(base: string, iterations = 4000) {
  const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  const data = Buffer.from(base)
  const sig = sign('sha256', data, {key: privateKey, dsaEncoding: 'ieee-p1363'})
  for (let i = 0; i < 300; i++) verify('sha256', data, {key: publicKey, dsaEncoding: 'ieee-p1363'}, sig)
  const start = performance.now()
  for (let i = 0; i < iterations; i++) {
    if (!verify('sha256', data, {key: publicKey, dsaEncoding: 'ieee-p1363'}, sig)) throw new Error('raw verify failed')
  }
  return ((performance.now() - start) * 1000) / iterations
}

const luaString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

/** A wrk script cycling through the pre-signed requests; `done` prints one JSON line. */
function wrkScript(requests: {path: string, headers: Record<string, string>}[], close: boolean) {
  const reqs = requests.map(r => {
    const headers = {...r.headers, ...(close ? {connection: 'close'} : {})}
    const h = Object.entries(headers).map(([k, v]) => `[${luaString(k)}] = ${luaString(v)}`).join(', ')
    return `  wrk.format('GET', ${luaString(r.path)}, {${h}})`
  })
  // Built in init(): wrk only knows the Host header once the thread is set up.
  return `local reqs
init = function(args)
  reqs = {
${reqs.join(',\n')}
  }
end
local n = 0
local codes = {}
request = function()
  n = n + 1
  return reqs[(n % #reqs) + 1]
end
response = function(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end
done = function(summary, latency, requests)
  io.write(string.format('WRKJSON {"requests":%d,"durationUs":%d,"connectErrors":%d,"readErrors":%d,"timeouts":%d,"statusErrors":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.timeout, summary.errors.status,
    latency:percentile(50), latency:percentile(99)))
end
`
}

interface WrkResult {requests: number, durationUs: number, connectErrors: number, readErrors: number, timeouts: number, statusErrors: number, p50Us: number, p99Us: number}

async function runWrk(url: string, script: string, pid: number) {
  const file = join(work, `poll-${Math.random().toString(36).slice(2)}.lua`)
  writeFileSync(file, script)
  const cpu0 = cpuSeconds(pid)
  const proc = Bun.spawn(['wrk', `-t${values.threads}`, `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', file, url], {stdout: 'pipe', stderr: 'pipe'})
  const out = await new Response(proc.stdout).text()
  await proc.exited
  const cpu = cpuSeconds(pid) - cpu0
  const line = /WRKJSON (\{.*\})/.exec(out)
  if (!line) throw new Error(`wrk gave no result:\n${out}\n${await new Response(proc.stderr).text()}`)
  const r = JSON.parse(line[1]!) as WrkResult
  if (r.statusErrors > 0) throw new Error(`${r.statusErrors} polls did not answer 304`)
  const elapsed = r.durationUs / 1e6
  return {
    pollsPerSecond: Math.round(r.requests / elapsed),
    serverMicrosPerPoll: Number(((cpu * 1e6) / r.requests).toFixed(1)),
    serverCpuCores: Number((cpu / elapsed).toFixed(2)),
    p50Ms: Number((r.p50Us / 1000).toFixed(2)),
    p99Ms: Number((r.p99Us / 1000).toFixed(2)),
    errors: r.connectErrors + r.readErrors + r.timeouts,
  }
}

/** Status reports per second: every device sends `perDevice` reports, `concurrency` in flight at once. */
async function statusThroughput(devices: {d: TestDevice, deploymentId: string}[], perDevice: number, concurrency = 16) {
  const jobs = devices.flatMap(({d, deploymentId}) => Array.from({length: perDevice}, (_, i) => ({d, deploymentId, state: i % 2 ? 'installed' : 'installing'})))
  let next = 0
  let refused = 0
  const t0 = performance.now()
  await Promise.all(Array.from({length: concurrency}, async () => {
    while (next < jobs.length) {
      const {d, deploymentId, state} = jobs[next++]!
      const res = await d.send('POST', `/api/v1/clients/{clientId}/deployments/${deploymentId}/status`, {body: statusBody(deploymentId, state)})
      const text = await res.text()
      if (res.status !== 200 && refused++ === 0) console.error(`a status report was refused: ${res.status} ${text}`)
    }
  }))
  const seconds = (performance.now() - t0) / 1000
  if (refused > 0) throw new Error(`${refused} status reports were refused`)
  return {reports: jobs.length, reportsPerSecond: Math.round(jobs.length / seconds)}
}

async function measure(engine: 'sqlite' | 'postgres') {
  const pg = engine === 'postgres' ? await startPostgresCluster() : undefined
  const args = ['--log-level', 'warn', '--workers', values.workers, '--enrollment', 'auto', ...(pg ? ['--database', pg.url] : [])]
  const server = values.profile
    ? await startServe(args, undefined, undefined, [process.execPath, '--cpu-prof-md', `--cpu-prof-dir=${values.profile}`, join(import.meta.dir, '../src/main.ts')])
    : await startServe(args)
  try {
    const t = server.transport()
    const token = readFileSync(join(server.dataDir, 'operator-token'), 'utf8').trim()
    const operator = (method: string, path: string, body: string, type: string) =>
      fetch(`${server.url}/operator/v1${path}`, {method, body, headers: {authorization: `Bearer ${token}`, 'content-type': type}, tls: {ca: server.ca}})
    if ((await operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), 'application/yaml')).status !== 201) throw new Error('publishing the app failed')
    const requests: {path: string, headers: Record<string, string>}[] = []
    const devices: {d: TestDevice, deploymentId: string}[] = []
    let base = ''
    for (let i = 0; i < deviceCount; i++) {
      const d = await TestDevice.create(t)
      await d.onboard()
      await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody()})
      const deployed = await operator('POST', '/deployments', JSON.stringify({appId: 'com-northstartida-hello-world', clientId: d.clientId}), 'application/json')
      if (deployed.status !== 201) throw new Error(`deploying to a device failed: ${deployed.status} ${await deployed.text()}`)
      devices.push({d, deploymentId: ((await deployed.json()) as {deploymentId: string}).deploymentId})
      const first = await d.send('GET', '/api/v1/clients/{clientId}/deployments')
      const etag = first.headers.get('etag')!
      const url = `${server.url}/api/v1/clients/${d.clientId}/deployments`
      const signed = await signRequest({method: 'GET', url}, {privateKey: d.privateKey, keyId: d.clientId})
      base = signatureBaseFor({method: 'GET', url, headers: signed}) ?? base
      requests.push({path: new URL(url).pathname, headers: {...signed, accept: 'application/vnd.margo.manifest.v1+json', 'if-none-match': etag}})
    }

    const verifyUs = rawVerifyMicros(base)
    const keepAlive = await runWrk(server.url, wrkScript(requests, false), server.proc.pid)
    const newConnection = await runWrk(server.url, wrkScript(requests, true), server.proc.pid)
    const status = await statusThroughput(devices, Number(values.reports))
    const ratio = (r: {serverMicrosPerPoll: number}) => Number((r.serverMicrosPerPoll / verifyUs).toFixed(2))
    return {
      engine,
      rawVerifyP256Micros: Number(verifyUs.toFixed(1)),
      keepAlive: {...keepAlive, timesCryptoBound: ratio(keepAlive)},
      newConnectionPerPoll: {...newConnection, timesCryptoBound: ratio(newConnection)},
      status,
    }
  } finally {
    await server.stop()
    pg?.stop()
  }
}

const results = []
for (const engine of engines) {
  const result = await measure(engine)
  results.push(result)
  for (const [name, r] of [['keep-alive', result.keepAlive], ['new connection per poll', result.newConnectionPerPoll]] as const) {
    console.error(`${engine} ${name}: ${r.pollsPerSecond} polls/s, ${r.serverMicrosPerPoll} µs server CPU per poll = ${r.timesCryptoBound}× the raw verify (${result.rawVerifyP256Micros} µs), p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`)
  }
  console.error(`${engine} status reports: ${result.status.reportsPerSecond}/s (${result.status.reports} reports, 16 in flight)`)
}
console.log(JSON.stringify({results, devices: deviceCount, connections, seconds, workers: Number(values.workers), wrkThreads: Number(values.threads)}))
