#!/usr/bin/env bun
/**
 * The device agent's footprint and latency, against the compiled binaries on loopback:
 * idle resident memory and CPU (polling every second, nothing to do), and the time from
 * `margo deploy` to the deployment being reported `installed` (recording fake drivers).
 * The yardstick, measured in the same run, is a bare compiled Bun program that has made one
 * HTTPS request to the same server and then idles.
 *
 *   bun bench/agent.ts [--idle-seconds 20] [--deploys 5]
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {HELLO_WORLD} from '../test/server/harness.ts'
import {cli, eventually, startAgent, startServe} from '../test/e2e/binary.ts'

const {values} = parseArgs({options: {'idle-seconds': {type: 'string', default: '20'}, deploys: {type: 'string', default: '5'}}})
const idleSeconds = Number(values['idle-seconds'])
const deploys = Number(values.deploys)
const work = mkdtempSync(join(tmpdir(), 'margo-bench-agent-'))
const CLOCK_TICKS = 100 // USER_HZ on Linux

function procStats(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)![1])
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  const cpuTicks = Number(stat[11]) + Number(stat[12]) // utime + stime
  return {rssKb, cpuSeconds: cpuTicks / CLOCK_TICKS}
}

/** A compiled program that fetches the server's CA certificate once over HTTPS, then idles. */
function startBare(url: string, caFile: string) {
  writeFileSync(join(work, 'bare.ts'), `const ca = await Bun.file(process.argv[3]).text()
await (await fetch(process.argv[2] + '/api/v1/onboarding/certificate', {tls: {ca}})).text()
console.log('fetched')
setInterval(() => {}, 1 << 30)
`)
  const built = Bun.spawnSync([process.execPath, 'build', '--compile', '--minify', '--bytecode', '--format=esm', join(work, 'bare.ts'), '--outfile', join(work, 'bare')], {stdout: 'pipe', stderr: 'pipe'})
  if (built.exitCode !== 0) throw new Error(built.stderr.toString())
  return Bun.spawn([join(work, 'bare'), url, caFile], {stdout: 'pipe', stderr: 'inherit'})
}

const packages = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: () => new Response('services:\n  web:\n    image: local/busybox:1\n    network_mode: none\n')})
const server = await startServe(['--log-level', 'warn', '--enrollment', 'auto'])
const agentEnv = {MARGO_FAKE_LOG: join(work, 'fake.log'), MARGO_FAKE_STATE: join(work, 'fake-state')}
let agent = startAgent(server, join(work, 'agent'), agentEnv)
try {
  writeFileSync(join(work, 'margo.yaml'), readFileSync(HELLO_WORLD, 'utf8').replace('https://northstarida.example/hello-world/compose.tar.gz', `http://127.0.0.1:${packages.port}/compose.yaml`))
  cli(server.dataDir, 'app', 'publish', join(work, 'margo.yaml'))
  await agent.waitForLog(/"capabilities.reported"/)
  const firstStartRssMiB = Number((procStats(agent.proc.pid).rssKb / 1024).toFixed(1))
  // A device spends its life in a restarted agent (already onboarded): measure that one.
  await agent.stop()
  agent = startAgent(server, join(work, 'agent'), agentEnv)
  await agent.waitForLog(/"desired_state\.|poll|manifest/)
  const clientId = cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string}[]>()[0]!.clientId

  const bare = startBare(server.url, join(server.dataDir, 'tls/ca.pem'))
  await Bun.sleep(3000) // settle after start-up
  const start = procStats(agent.proc.pid)
  const bareStart = procStats(bare.pid)
  await Bun.sleep(idleSeconds * 1000)
  const end = procStats(agent.proc.pid)
  const bareEnd = procStats(bare.pid)
  bare.kill()
  const percent = (a: {cpuSeconds: number}, b: {cpuSeconds: number}) => Number((((b.cpuSeconds - a.cpuSeconds) / idleSeconds) * 100).toFixed(2))
  const idle = {
    rssMiB: Number((end.rssKb / 1024).toFixed(1)), cpuPercent: percent(start, end),
    bareRssMiB: Number((bareEnd.rssKb / 1024).toFixed(1)), bareCpuPercent: percent(bareStart, bareEnd),
    timesBareRss: Number((end.rssKb / bareEnd.rssKb).toFixed(2)),
    firstStartRssMiB,
  }

  const token = readFileSync(join(server.dataDir, 'operator-token'), 'utf8').trim()
  const latencies: number[] = []
  for (let i = 0; i < deploys; i++) {
    const t0 = performance.now()
    const {deploymentId} = cli(server.dataDir, 'deploy', 'com-northstartida-hello-world', '--device', clientId, '--json').json<{deploymentId: string}>()
    await eventually('installed', async () => {
      const res = await fetch(`${server.url}/operator/v1/deployments/${deploymentId}`, {headers: {authorization: `Bearer ${token}`}, tls: {ca: server.ca}})
      const d = (await res.json()) as {status: {state: string} | null}
      return d.status?.state === 'installed' ? true : undefined
    }, 30000)
    latencies.push(performance.now() - t0)
  }
  const sorted = [...latencies].sort((a, b) => a - b)
  const result = {
    idle: {...idle, seconds: idleSeconds, pollIntervalSeconds: 1},
    deployToInstalledMs: {median: Math.round(sorted[Math.floor(sorted.length / 2)]!), min: Math.round(sorted[0]!), max: Math.round(sorted.at(-1)!), runs: deploys},
    rssAfterDeploysMiB: Number((procStats(agent.proc.pid).rssKb / 1024).toFixed(1)),
  }
  console.log(JSON.stringify(result))
  console.error(`agent idle: ${result.idle.rssMiB} MiB resident (${result.idle.timesBareRss}× the bare program's ${result.idle.bareRssMiB} MiB), ${result.idle.cpuPercent}% CPU (1 s polls)`)
  console.error(`margo deploy → installed: median ${result.deployToInstalledMs.median} ms (min ${result.deployToInstalledMs.min}, max ${result.deployToInstalledMs.max}, ${deploys} runs)`)
} finally {
  await agent.stop()
  await server.stop()
  packages.stop(true)
}
