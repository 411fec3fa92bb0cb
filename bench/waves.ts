#!/usr/bin/env bun
/**
 * Staged rollouts at scale. Service level: 10,000 devices in waves 1, 10%, rest; the time the
 * controller takes to evaluate the rollout and let the last wave (8,999 devices) through, next
 * to the yardstick of the same run: an unstaged deploy of the same app to the same devices
 * (every device planned and written at once). Also the time of an evaluation that changes
 * nothing (what every tick costs while a wave installs). End to end: `margo serve` (compiled)
 * and `margo simulate` with 1,000 devices, from deploy to the last wave installed.
 *
 *   bun bench/waves.ts [--devices 10000] [--e2e 1000]
 */
import {parseArgs} from 'node:util'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {createRolloutService} from '../src/server/rollouts/rollout-service.ts'
import {advanceRollout} from '../src/server/rollouts/staging.ts'
import {recordStatusReport} from '../src/server/store/status-repo.ts'
import {capabilitiesBody, createHarness, HELLO_WORLD} from '../test/server/harness.ts'
import {BIN, cli, eventually, startServe} from '../test/e2e/binary.ts'

const {values} = parseArgs({options: {devices: {type: 'string', default: '10000'}, e2e: {type: 'string', default: '1000'}}})
const N = Number(values.devices)
const APP = 'com-northstartida-hello-world'

async function fleet(n: number) {
  const h = await createHarness()
  const now = () => new Date()
  const caps = JSON.stringify(capabilitiesBody('bench'))
  h.store.transaction(() => {
    for (let i = 0; i < n; i++) {
      const id = `bench-${i}`
      h.store.insertClient({clientId: id, fingerprint: `sha256:${id}`, certificatePem: '-', subject: id, keyType: 'p256', notAfter: '2030-01-01T00:00:00Z', enrollment: 'active', onboardedAt: now().toISOString()})
      h.store.setLabels(id, {fleet: 'b'})
      h.store.setCapabilities(id, caps, now().toISOString())
    }
  })
  const res = await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})
  if (res.status !== 201) throw new Error(`publish: ${res.status}`)
  return {h, service: createRolloutService({store: h.store, events: {emit: () => {}}, now})}
}

function installAll(h: Awaited<ReturnType<typeof fleet>>['h']) {
  const at = new Date().toISOString()
  h.store.transaction(() => {
    for (const d of h.store.listDeployments({appId: APP, desired: 'present'})) {
      recordStatusReport(h.store, {deploymentId: d.deploymentId, clientId: d.clientId, state: 'installed', errorJson: null, componentsJson: '[]', receivedAt: at}, 100)
    }
  })
}

const time = (f: () => void) => {
  const t0 = performance.now()
  f()
  return performance.now() - t0
}

// Yardstick: the same deploy without waves.
const base = await fleet(N)
const yardstick = time(() => base.service.create({appId: APP, selector: 'fleet=b', profile: 'compose'}))
base.h.close()

const staged = await fleet(N)
const create = time(() => staged.service.create({appId: APP, selector: 'fleet=b', profile: 'compose', strategy: {waves: ['1', '10%']}}))
const rolloutId = staged.service.list()[0]!.rolloutId
installAll(staged.h)
const wave2 = time(() => advanceRollout({store: staged.h.store, events: {emit: () => {}}, now: () => new Date()}, rolloutId))
installAll(staged.h)
const wave3 = time(() => advanceRollout({store: staged.h.store, events: {emit: () => {}}, now: () => new Date()}, rolloutId))
const idle = time(() => advanceRollout({store: staged.h.store, events: {emit: () => {}}, now: () => new Date()}, rolloutId))
const progress = time(() => staged.service.progress(rolloutId))
const moved = staged.h.store.listDeployments({appId: APP, desired: 'present'}).length
staged.h.close()

const ms = (x: number) => `${x.toFixed(0)} ms`
console.log(`service level, ${N} devices (waves 1, 10%, rest):`)
console.log(`  yardstick: unstaged deploy to all ${N}: ${ms(yardstick)}`)
console.log(`  staged deploy (wave 1 admitted): ${ms(create)}`)
console.log(`  evaluate + admit wave 2 (${Math.ceil(N / 10)}): ${ms(wave2)}`)
console.log(`  evaluate + admit wave 3 (${moved - 1 - Math.ceil(N / 10)}): ${ms(wave3)} = ${(wave3 / yardstick).toFixed(2)}x the yardstick`)
console.log(`  evaluation that changes nothing (every tick while a wave installs): ${ms(idle)}`)
console.log(`  progress with a reason per device (rollout show / status): ${ms(progress)}`)

// End to end with the compiled binary and simulated devices.
const E = Number(values.e2e)
if (E > 0) {
  const server = await startServe(['--log-level', 'error', '--enrollment', 'auto'])
  cli(server.dataDir, 'app', 'publish', HELLO_WORLD)
  const sim = Bun.spawn([BIN, 'simulate', '--server', server.url, '--ca-file', join(server.dataDir, 'tls/ca.pem'), '--data-dir', server.dataDir, '--devices', String(E), '--poll-interval', '1s', '--labels', 'fleet=e'], {stdout: 'ignore', stderr: 'ignore'})
  await eventually('devices', () => (cli(server.dataDir, 'device', 'list', '--json').json<{labels: Record<string, string>}[]>().filter(d => d.labels.fleet === 'e').length === E ? true : undefined), 120_000)
  await Bun.sleep(2000)
  const t0 = performance.now()
  cli(server.dataDir, 'deploy', APP, '--selector', 'fleet=e', '--wave', '1', '--wave', '10%')
  await eventually('completed', () => (cli(server.dataDir, 'rollout', 'show', APP, '--json').json<{progress: {phase: string}}>().progress.phase === 'completed' ? true : undefined), 300_000)
  const stagedMs = performance.now() - t0
  console.log(`end to end, ${E} simulated devices polling every 1s, waves 1, 10%, rest: deploy → every wave installed in ${(stagedMs / 1000).toFixed(1)} s (three waves: at least three poll rounds)`)
  sim.kill('SIGTERM')
  await sim.exited
  await server.stop()
}
