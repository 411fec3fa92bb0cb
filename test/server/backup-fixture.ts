// What the backup tests of both engines share: the key files of a real data dir, deploying and
// polling through the test harness, and the check that a restored server's manifest is an update
// to a device that accepted versions after the backup — never a rollback.
import {expect} from 'bun:test'
import {evaluateManifest} from '../../src/agent/sync/manifest-check.ts'
import {type Harness, TestDevice} from './harness.ts'

export const APP = 'com-northstartida-hello-world'
const MANIFEST = '/api/v1/clients/{clientId}/deployments'

/** The data dir's key files, with stand-in contents a restore must bring back byte for byte. */
export const KEY_FILES = [['tls/ca.pem', 'CA CERT'], ['tls/ca.key', 'CA KEY'], ['tls/server.pem', 'SERVER CERT'], ['tls/server.key', 'SERVER KEY'], ['operator-token', 'TOKEN'], ['secret.key', 'SECRET KEY']] as const

/** `res` answered `status`, or the test fails with what it said instead. */
export async function ok(res: Promise<Response>, status = 201): Promise<Response> {
  const r = await res
  if (r.status !== status) throw new Error(`${r.status} ${await r.text()}`)
  return r
}

export async function deploy(h: Harness, clientId: string, values: Record<string, unknown> = {}) {
  return (await (await ok(h.operator('POST', '/deployments', {appId: APP, clientId, values}))).json()) as {deploymentId: string}
}

export type Polled = Awaited<ReturnType<typeof poll>>

export async function poll(d: TestDevice) {
  const res = await ok(d.send('GET', MANIFEST), 200)
  const body = new Uint8Array(await res.arrayBuffer())
  return {body, etag: res.headers.get('etag'), contentType: res.headers.get('content-type'), json: JSON.parse(new TextDecoder().decode(body)) as {manifestVersion: number, deployments: {deploymentId: string}[]}}
}

/**
 * The restored server `r` as the device `d` sees it, having accepted `accepted` from the old
 * server after the backup: the next manifest is above the floor, holds what the backup held
 * (`kept`), and the agent takes it as an update — where without the floor the same manifest
 * would be refused as a rollback. Changes go on one version at a time, and a device new to the
 * restored server starts at 1. Returns what the device polled first.
 */
export async function expectRestoredAsUpdate(r: Harness, d: TestDevice, accepted: Polled, floor: number, kept: {deploymentId: string}): Promise<Polled> {
  const after = await poll(d.to(r))
  expect(after.json.manifestVersion).toBeGreaterThanOrEqual(floor)
  expect(after.json.deployments.map(x => x.deploymentId)).toEqual([kept.deploymentId])
  // What the agent decides with the version it accepted from the old server: an update, no security event.
  const last = {manifestVersion: accepted.json.manifestVersion, etag: accepted.etag!}
  expect(evaluateManifest(last, after).kind).toBe('accept')
  // Without the floor the restored manifest (version 2) would have been refused as a rollback.
  const unfloored = new TextEncoder().encode(new TextDecoder().decode(after.body).replace(/"manifestVersion":\d+/, '"manifestVersion":2'))
  expect(evaluateManifest(last, {...after, body: unfloored, etag: null})).toMatchObject({kind: 'reject', code: 'rollback'})

  await deploy(r, d.clientId, {greeting: 'restored'})
  expect((await poll(d.to(r))).json.manifestVersion).toBe(after.json.manifestVersion + 1)
  const newcomer = await TestDevice.create(r)
  await newcomer.onboard()
  expect((await poll(newcomer)).json.manifestVersion).toBe(1)
  return after
}
