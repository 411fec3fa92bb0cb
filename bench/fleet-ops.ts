#!/usr/bin/env bun
/**
 * Operations on one device (label it, approve it, show it, show its status) must cost the
 * same whatever the fleet size. In process (real SQLite file, real routes, the rollout
 * controller subscribed as in `margo serve`, one live rollout by selector), at two fleet
 * sizes in the same run; the figure is the ratio of the per-operation times.
 *
 *   bun bench/fleet-ops.ts [--small 1000] [--large 10000] [--ops 300]
 */
import {parseArgs} from 'node:util'
import {silentLogger} from '../src/util/log.ts'
import {startRolloutController} from '../src/server/rollouts/index.ts'
import {readFileSync} from 'node:fs'
import {capabilitiesBody, createHarness, HELLO_WORLD, TestDevice} from '../test/server/harness.ts'

const {values} = parseArgs({options: {small: {type: 'string', default: '1000'}, large: {type: 'string', default: '10000'}, ops: {type: 'string', default: '300'}}})
const ops = Number(values.ops)

async function fleet(size: number) {
  const h = await createHarness()
  const stop = startRolloutController({store: h.store, events: h.events, log: silentLogger, now: () => new Date()})
  // One real device (the one operated on); the rest are rows sharing its certificate shape.
  const d = await TestDevice.create(h)
  await d.onboard()
  const real = h.store.getClient(d.clientId)!
  h.store.transaction(() => {
    for (let i = 1; i < size; i++) {
      h.store.insertClient({...real, clientId: `bench-${i}`, fingerprint: `sha256:bench-${i}`, enrollment: i % 10 === 0 ? 'pending' : 'active'})
      h.store.setLabels(`bench-${i}`, {site: `plant-${i % 50}`})
    }
  })
  // A live rollout by selector, so every label change is re-evaluated against it.
  const published = await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})
  if (published.status !== 201) throw new Error(`publish: ${published.status} ${await published.text()}`)
  await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('bench', ['Standalone Device'])})
  const rollout = await h.operator('POST', '/rollouts', {appId: 'com-northstartida-hello-world', selector: 'site=plant-7'})
  if (rollout.status !== 201) throw new Error(`rollout: ${rollout.status} ${await rollout.text()}`)
  const timeOp = async (name: string, op: (i: number) => Promise<Response>) => {
    for (let i = 0; i < 20; i++) await op(i)
    const t0 = performance.now()
    for (let i = 0; i < ops; i++) {
      const res = await op(i)
      if (res.status >= 300) throw new Error(`${name}: ${res.status} ${await res.text()}`)
      await res.arrayBuffer()
    }
    return [name, Number((((performance.now() - t0) * 1000) / ops).toFixed(1))] as const
  }
  const result = Object.fromEntries([
    await timeOp('labelMicros', i => h.operator('PATCH', `/devices/${d.clientId}/labels`, {labels: {site: `plant-${i % 50}`}})),
    await timeOp('approveMicros', () => h.operator('POST', `/devices/${d.clientId}/approve`)),
    await timeOp('showMicros', () => h.operator('GET', `/devices/${d.clientId}`)),
    await timeOp('statusMicros', () => h.operator('GET', `/status/${d.clientId}`)),
  ])
  stop()
  h.close()
  return result as Record<string, number>
}

const small = Number(values.small)
const large = Number(values.large)
// Each size twice, interleaved, keeping the faster run of each: writes fsync (synchronous=FULL),
// and a shared disk adds noise larger than the effect looked for.
const best = (x: Record<string, number>, y: Record<string, number>) => Object.fromEntries(Object.keys(x).map(k => [k, Math.min(x[k]!, y[k]!)]))
await fleet(small) // warm the JIT so neither size pays for it
const a1 = await fleet(small)
const b1 = await fleet(large)
const a = best(a1, await fleet(small))
const b = best(b1, await fleet(large))
const ratios = Object.fromEntries(Object.keys(a).map(k => [k.replace('Micros', ''), Number((b[k]! / a[k]!).toFixed(2))]))
console.log(JSON.stringify({[`devices${small}`]: a, [`devices${large}`]: b, ratioLargeToSmall: ratios, ops}))
for (const k of Object.keys(a)) console.error(`${k.replace('Micros', '')}: ${a[k]} µs at ${small} devices, ${b[k]} µs at ${large} (×${ratios[k.replace('Micros', '')]})`)
