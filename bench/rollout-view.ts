#!/usr/bin/env bun
/**
 * Planning and showing a rollout over a whole fleet: deploy to every device (half of them can
 * take the app, half have reported no capabilities and are listed as skipped), deploy again
 * with new values (an update of every deployment), and `GET /rollouts/{name}` (its deployments
 * and skipped devices: what `margo rollout show` and the dashboard read). In process, real
 * routes; SQLite, or PostgreSQL when MARGO_TEST_DATABASE_URL names a database. The yardstick
 * is `GET /devices` of the same fleet in the same run: a view that lists every device once.
 *
 *   bun bench/rollout-view.ts [--devices 10000] [--reads 10]
 */
import {readFileSync} from 'node:fs'
import {parseArgs} from 'node:util'
import {capabilitiesBody, createHarness, HELLO_WORLD, TestDevice} from '../test/server/harness.ts'

const {values} = parseArgs({options: {devices: {type: 'string', default: '10000'}, reads: {type: 'string', default: '10'}}})
const size = Number(values.devices)
const reads = Number(values.reads)
const APP = 'com-northstartida-hello-world'

const h = await createHarness()
const d = await TestDevice.create(h)
await d.onboard()
await d.send('POST', '/api/v1/clients/{clientId}/capabilities', {body: capabilitiesBody('bench', ['Standalone Device'])})
const real = h.store.getClient(d.clientId)!
h.store.transaction(() => {
  for (let i = 1; i < size; i++) {
    const clientId = `bench-${i}`
    h.store.insertClient({...real, clientId, fingerprint: `sha256:${clientId}`})
    if (i % 2 === 0) h.store.setCapabilities(clientId, real.capabilitiesJson!, real.capabilitiesAt!)
  }
})
await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})

async function timed(what: string, call: () => Promise<Response>): Promise<number> {
  const t0 = performance.now()
  const res = await call()
  await res.arrayBuffer()
  if (res.status >= 300) throw new Error(`${what}: ${res.status}`)
  return performance.now() - t0
}
async function median(what: string, call: () => Promise<Response>): Promise<number> {
  await timed(what, call)
  const times: number[] = []
  for (let i = 0; i < reads; i++) times.push(await timed(what, call))
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!
}

const listMs = await median('device list', () => h.operator('GET', '/devices'))
const deployMs = await timed('deploy', () => h.operator('POST', '/rollouts', {appId: APP, selector: ''}))
const updateMs = await timed('update', () => h.operator('POST', '/rollouts', {appId: APP, selector: '', values: {greeting: 'Servus'}}))
const showMs = await median('rollout show', () => h.operator('GET', `/rollouts/${APP}`))
h.close()

const round = (x: number) => Number(x.toFixed(1))
const engine = process.env.MARGO_TEST_DATABASE_URL ? 'postgres' : 'sqlite'
const result = {engine, devices: size, deviceListMs: round(listMs), deployMs: round(deployMs), updateMs: round(updateMs), showMs: round(showMs),
  ratioToDeviceList: {deploy: round(deployMs / listMs), update: round(updateMs / listMs), show: round(showMs / listMs)}}
console.log(JSON.stringify(result))
console.error(`${engine}, ${size} devices: device list ${round(listMs)} ms; deploy ${round(deployMs)} ms (×${result.ratioToDeviceList.deploy}), update ${round(updateMs)} ms (×${result.ratioToDeviceList.update}), rollout show ${round(showMs)} ms (×${result.ratioToDeviceList.show})`)
process.exit(0)
