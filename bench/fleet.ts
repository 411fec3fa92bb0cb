#!/usr/bin/env bun
/**
 * A fleet on one machine: `margo serve` and `margo simulate` (compiled, HTTPS on loopback).
 * For each poll interval: simulated devices onboard and get labelled, the fleet idles for a
 * while (server CPU and RSS, simulator RSS), then `margo deploy --selector` and the time until
 * every device reports `installed` (server CPU and RSS during the rollout).
 *
 * Every figure comes with a yardstick measured in the same run: the idle RSS of a bare compiled
 * Bun program, and the round trip of one signed 304 poll from a single device.
 *
 *   bun bench/fleet.ts [--devices 1000] [--intervals 30s,1s] [--idle-seconds 30] [--skip-deploy]
 */
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {createPublicKey} from 'node:crypto'
import {DeviceClient, parseOnboardingResponse} from '../src/agent/device-client.ts'
import {createSelfSignedDeviceCertificate} from '../src/pki/index.ts'
import {generateKeyPair} from '../src/signing/index.ts'
import {parseDuration} from '../src/util/duration.ts'
import {HELLO_WORLD} from '../test/server/harness.ts'
import {BIN, cli, startServe, type ServeProcess} from '../test/e2e/binary.ts'

const {values} = parseArgs({options: {
  devices: {type: 'string', default: '1000'},
  intervals: {type: 'string', default: '30s,1s'},
  'idle-seconds': {type: 'string', default: '30'},
  'skip-deploy': {type: 'boolean', default: false},
}})
const deviceCount = Number(values.devices)
const intervals = values.intervals.split(',')
const idleSeconds = Number(values['idle-seconds'])
const work = mkdtempSync(join(tmpdir(), 'margo-bench-fleet-'))
const CLOCK_TICKS = 100 // USER_HZ on Linux
const APP = 'com-northstartida-hello-world'
const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`)

function procStats(pid: number) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)![1])
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)![1])
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return {rssMiB: rssKb / 1024, peakMiB: hwmKb / 1024, cpuSeconds: (Number(stat[11]) + Number(stat[12])) / CLOCK_TICKS}
}
const mib = (v: number) => Number(v.toFixed(1))

/** Yardstick: what a compiled Bun program that does nothing holds resident. */
async function bareBunRss(): Promise<number> {
  const src = join(work, 'idle.ts')
  const exe = join(work, 'idle')
  writeFileSync(src, 'setInterval(() => {}, 1000)\n')
  const build = Bun.spawnSync([process.execPath, 'build', '--compile', src, '--outfile', exe], {stdout: 'ignore', stderr: 'pipe'})
  if (build.exitCode !== 0) throw new Error(build.stderr.toString())
  const proc = Bun.spawn([exe], {stdout: 'ignore', stderr: 'ignore'})
  await Bun.sleep(1500)
  const rss = procStats(proc.pid).rssMiB
  proc.kill()
  return mib(rss)
}

/** Yardstick: one device's signed 304 poll, median of 50, through the agent's own client. */
async function pollRoundTrip(server: ServeProcess): Promise<number> {
  const {privateKey} = generateKeyPair('p256')
  const certPem = await createSelfSignedDeviceCertificate({privateKey, publicKey: createPublicKey(privateKey), subject: 'CN=bench-yardstick, O=margo', days: 30})
  const client = new DeviceClient({server: server.url, caPem: server.ca, privateKey})
  const onboarded = parseOnboardingResponse((await client.onboard(certPem)).body)
  if (!onboarded.ok) throw new Error(onboarded.reason)
  client.clientId = onboarded.clientId
  const etag = (await client.getManifest(null)).headers.get('etag')
  const times: number[] = []
  for (let i = 0; i < 60; i++) {
    const t0 = performance.now()
    const res = await client.getManifest(etag)
    if (res.status !== 304) throw new Error(`expected 304, got ${res.status}`)
    if (i >= 10) times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return Number(times[Math.floor(times.length / 2)]!.toFixed(2))
}

async function operator<T>(server: ServeProcess, path: string): Promise<T> {
  const token = readFileSync(join(server.dataDir, 'operator-token'), 'utf8').trim()
  const res = await fetch(`${server.url}/operator/v1${path}`, {headers: {authorization: `Bearer ${token}`}, tls: {ca: server.ca}})
  return (await res.json()) as T
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 500) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(everyMs)
  }
}

async function scenario(interval: string) {
  const pollMs = parseDuration(interval)
  const server = await startServe(['--log-level', 'warn', '--enrollment', 'auto'], mkdtempSync(join(work, 'serve-')))
  const sim = Bun.spawn([BIN, 'simulate', '--server', server.url, '--ca-file', join(server.dataDir, 'tls/ca.pem'), '--data-dir', server.dataDir,
    '--devices', String(deviceCount), '--poll-interval', interval, '--labels', 'fleet=sim', '--json'], {stdin: 'ignore', stdout: 'pipe', stderr: 'pipe'})
  try {
    cli(server.dataDir, 'app', 'publish', HELLO_WORLD)
    const roundTripMs = await pollRoundTrip(server)
    const t0 = Date.now()
    await waitFor(`${deviceCount} devices to onboard`, async () => {
      const {devices} = await operator<{devices: {labels: Record<string, string>}[]}>(server, '/devices')
      return devices.filter(d => d.labels.fleet === 'sim').length === deviceCount
    }, Math.max(120_000, pollMs * 4), 1000)
    const onboardSeconds = (Date.now() - t0) / 1000
    log(`${interval}: ${deviceCount} devices onboarded and labelled in ${onboardSeconds.toFixed(1)} s`)

    // Idle: every device polls (304) at its interval.
    await Bun.sleep(Math.min(pollMs, 10_000))
    const s0 = procStats(server.proc.pid)
    await Bun.sleep(idleSeconds * 1000)
    const s1 = procStats(server.proc.pid)
    const simIdle = procStats(sim.pid)
    const idle = {
      serverCpuPercent: Number((((s1.cpuSeconds - s0.cpuSeconds) / idleSeconds) * 100).toFixed(1)),
      serverRssMiB: mib(s1.rssMiB),
      simulatorRssMiB: mib(simIdle.rssMiB),
      simulatorRssPer1000MiB: mib((simIdle.rssMiB / deviceCount) * 1000),
    }
    log(`${interval}: idle server ${idle.serverCpuPercent}% CPU, ${idle.serverRssMiB} MiB; simulator ${idle.simulatorRssMiB} MiB`)

    let rollout: Record<string, number> | null = null
    if (!values['skip-deploy']) {
      const c0 = procStats(server.proc.pid)
      const started = performance.now()
      const deploy = cli(server.dataDir, 'deploy', APP, '--selector', 'fleet=sim')
      if (deploy.code !== 0) throw new Error(deploy.stderr)
      const deployedMs = performance.now() - started
      let firstInstalledMs: number | null = null
      await waitFor('every device to report installed', async () => {
        const {deployments} = await operator<{deployments: {status: {state: string} | null}[]}>(server, `/deployments?appId=${APP}`)
        const installed = deployments.filter(d => d.status?.state === 'installed').length
        if (installed > 0) firstInstalledMs ??= performance.now() - started
        return installed === deviceCount
      }, pollMs * 3 + 60_000, 250)
      const allMs = performance.now() - started
      const c1 = procStats(server.proc.pid)
      rollout = {
        deployCommandMs: Math.round(deployedMs),
        firstInstalledMs: Math.round(firstInstalledMs ?? allMs),
        allInstalledMs: Math.round(allMs),
        serverCpuPercent: Number((((c1.cpuSeconds - c0.cpuSeconds) / (allMs / 1000)) * 100).toFixed(1)),
        serverRssMiB: mib(c1.rssMiB),
        serverPeakRssMiB: mib(c1.peakMiB),
        simulatorRssMiB: mib(procStats(sim.pid).rssMiB),
      }
      log(`${interval}: margo deploy → all ${deviceCount} installed in ${(allMs / 1000).toFixed(1)} s (first after ${((firstInstalledMs ?? allMs) / 1000).toFixed(1)} s); server ${rollout.serverCpuPercent}% CPU`)
    }
    sim.kill('SIGTERM')
    await sim.exited
    const summary = JSON.parse(await new Response(sim.stdout).text()) as {errors: number, pollsPerSecond: number, lastError: string | null}
    return {pollInterval: interval, devices: deviceCount, onboardSeconds: Number(onboardSeconds.toFixed(1)), idle, rollout, simulatorErrors: summary.errors, simulatorLastError: summary.lastError, simulatorPollsPerSecond: summary.pollsPerSecond, yardstick: {pollRoundTripMs: roundTripMs}}
  } finally {
    if (sim.exitCode === null) sim.kill('SIGKILL')
    await server.stop()
  }
}

const bare = await bareBunRss()
log(`yardstick: a bare compiled Bun program idles at ${bare} MiB`)
const results = []
for (const interval of intervals) results.push(await scenario(interval))
console.log(JSON.stringify({bareBunRssMiB: bare, scenarios: results}))
