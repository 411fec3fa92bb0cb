#!/usr/bin/env bun
/**
 * The device agent's footprint and latency, against the compiled binaries on loopback:
 * idle resident memory and CPU (polling every second, nothing to do), and the time from
 * `margo deploy` to the deployment being reported `installed` (recording fake drivers).
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

const packages = Bun.serve({hostname: '127.0.0.1', port: 0, fetch: () => new Response('services:\n  web:\n    image: local/busybox:1\n    network_mode: none\n')})
const server = await startServe(['--log-level', 'warn'])
const agent = startAgent(server, join(work, 'agent'), {MARGO_FAKE_LOG: join(work, 'fake.log'), MARGO_FAKE_STATE: join(work, 'fake-state')})
try {
  writeFileSync(join(work, 'margo.yaml'), readFileSync(HELLO_WORLD, 'utf8').replace('https://northstarida.example/hello-world/compose.tar.gz', `http://127.0.0.1:${packages.port}/compose.yaml`))
  cli(server.dataDir, 'app', 'publish', join(work, 'margo.yaml'))
  await agent.waitForLog(/"capabilities.reported"/)
  const clientId = cli(server.dataDir, 'device', 'list', '--json').json<{clientId: string}[]>()[0]!.clientId

  await Bun.sleep(3000) // settle after start-up
  const start = procStats(agent.proc.pid)
  await Bun.sleep(idleSeconds * 1000)
  const end = procStats(agent.proc.pid)
  const idle = {rssMiB: Number((end.rssKb / 1024).toFixed(1)), cpuPercent: Number((((end.cpuSeconds - start.cpuSeconds) / idleSeconds) * 100).toFixed(2))}

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
  console.error(`agent idle: ${result.idle.rssMiB} MiB resident, ${result.idle.cpuPercent}% CPU (1 s polls)`)
  console.error(`margo deploy → installed: median ${result.deployToInstalledMs.median} ms (min ${result.deployToInstalledMs.min}, max ${result.deployToInstalledMs.max}, ${deploys} runs)`)
} finally {
  await agent.stop()
  await server.stop()
  packages.stop(true)
}
