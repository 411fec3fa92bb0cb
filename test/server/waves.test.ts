import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {readFileSync} from 'node:fs'
import type {ServerEvent} from '../../src/operator-contract/events.ts'
import type {WhyReason} from '../../src/operator-contract/strategy.ts'
import {listAudit} from '../../src/server/audit/service.ts'
import {createRolloutService, type RolloutInput} from '../../src/server/rollouts/rollout-service.ts'
import {createWindowService} from '../../src/server/rollouts/windows-service.ts'
import {recordStatusReport} from '../../src/server/store/status-repo.ts'
import type {ValidationError} from '../../src/util/errors.ts'
import {capabilitiesBody, createHarness, HELLO_WORLD, type Harness} from './harness.ts'

const APP = 'com-northstartida-hello-world'
let h: Harness
let clock: Date
let seen: Map<string, string>
let events: ServerEvent[]
const tick = (ms: number) => { clock = new Date(clock.getTime() + ms) }
const service = () => createRolloutService({store: h.store, events: {emit: e => events.push(e)}, now: () => clock, lastSeen: () => seen})

beforeEach(async () => {
  h = await createHarness()
  clock = new Date('2026-06-10T12:00:00Z')
  seen = new Map()
  events = []
  const res = await h.operator('POST', '/apps', readFileSync(HELLO_WORLD, 'utf8'), {'content-type': 'application/yaml'})
  expect(res.status).toBe(201)
})
afterEach(() => h.close())

function devices(n: number, labels: (i: number) => Record<string, string> = () => ({})): string[] {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const clientId = `dev-${String(i).padStart(3, '0')}`
    h.store.insertClient({clientId, fingerprint: `sha256:${clientId}`, certificatePem: '-', subject: clientId, keyType: 'p256', notAfter: '2030-01-01T00:00:00Z', enrollment: 'active', onboardedAt: clock.toISOString()})
    h.store.setLabels(clientId, {fleet: 'f', ...labels(i)})
    h.store.setCapabilities(clientId, JSON.stringify(capabilitiesBody(clientId)), clock.toISOString())
    seen.set(clientId, clock.toISOString())
    ids.push(clientId)
  }
  return ids
}

const deploy = (extra: Partial<RolloutInput> = {}) => service().create({appId: APP, selector: 'fleet=f', profile: 'compose', ...extra})
const deploymentOf = (clientId: string) => h.store.listDeployments({clientId, appId: APP, desired: 'present'})[0]
const moved = (ids: string[]) => ids.filter(id => deploymentOf(id))
const greetingOf = (clientId: string) => (JSON.parse(deploymentOf(clientId)!.valuesJson) as {resolved: {greeting: string}}).resolved.greeting

/** Every moved device whose change has not been reported yet reports `state`. */
function report(ids: string[], state: 'installed' | 'failed' = 'installed') {
  tick(1000)
  for (const id of ids) {
    const d = deploymentOf(id)
    if (!d) continue
    recordStatusReport(h.store, {
      deploymentId: d.deploymentId, clientId: id, state,
      errorJson: state === 'failed' ? JSON.stringify({code: 'PULL_FAILED', message: 'image not found'}) : null,
      componentsJson: '[]', receivedAt: clock.toISOString(),
    }, 100)
    seen.set(id, clock.toISOString())
  }
  service().advanceAll()
}
const reasons = (name: string) => new Map(service().progress(name)!.notConverged.map(d => [d.clientId, d.reason]))
const progress = (name = APP) => service().progress(name)!

describe('waves', () => {
  test('1, 10%, rest: a wave starts only once the previous one is healthy; events name every transition', () => {
    const ids = devices(20)
    deploy({strategy: {waves: ['1', '10%']}})
    expect(moved(ids).length).toBe(1)
    expect(progress().waves.map(w => w.size)).toEqual([1, 2, 17])
    expect(reasons(APP).get(moved(ids)[0]!)?.code).toBe('applying')
    const waiting = [...reasons(APP).values()].filter(r => r.code === 'waiting_for_wave')
    expect(waiting.length).toBe(19)

    report(moved(ids))
    expect(moved(ids).length).toBe(3)
    expect(progress().wave).toBe(2)
    report(moved(ids))
    expect(moved(ids).length).toBe(20)
    report(moved(ids))
    expect(progress().phase).toBe('completed')
    expect(progress().notConverged).toEqual([])
    const changes = events.filter(e => e.type === 'rollout.progress').map(e => e.type === 'rollout.progress' ? `${e.change}:${e.wave}` : '')
    expect(changes).toEqual(['run_started:1', 'wave_completed:1', 'wave_started:2', 'wave_completed:2', 'wave_started:3', 'wave_completed:3', 'completed:3'])
    expect(listAudit(h.store, {}).some(a => a.actor === 'system' && a.action === 'rollout.completed')).toBe(true)
  })

  test('failures above the threshold pause the rollout in their wave; resume accepts them; abort stops', () => {
    const ids = devices(20)
    deploy({strategy: {waves: ['1', '25%'], failureThreshold: '1'}})
    report(moved(ids))
    const wave2 = moved(ids).filter(id => reasons(APP).get(id)?.code === 'applying')
    expect(wave2.length).toBe(5)
    report(wave2.slice(0, 1), 'failed')
    expect(progress().phase).toBe('running') // one failure is within the threshold
    report(wave2.slice(1, 2), 'failed')
    expect(progress().phase).toBe('paused')
    expect(progress().wave).toBe(2)
    const why = reasons(APP)
    expect(why.get(wave2[0]!)).toEqual({code: 'failed', errorCode: 'PULL_FAILED', message: 'image not found'})
    const held = ids.find(id => !deploymentOf(id))!
    expect(why.get(held)).toMatchObject({code: 'paused', by: 'failure threshold'})
    expect(listAudit(h.store, {}).some(a => a.actor === 'system' && a.action === 'rollout.paused')).toBe(true)

    service().control(APP, 'resume', 'alice')
    report(wave2.slice(2))
    expect(progress().wave).toBe(3)
    service().control(APP, 'pause', 'alice')
    expect(progress().pause).toEqual({code: 'operator', by: 'alice', reason: 'paused by alice'})
    service().control(APP, 'abort', 'alice')
    const before = moved(ids).length
    report(moved(ids))
    expect(moved(ids).length).toBe(before)
    expect(progress().phase).toBe('aborted')
    expect(() => service().control(APP, 'resume', 'alice')).toThrow(/aborted/)
  })

  test('--on-failure rollback: devices of this rollout that moved get the previous revision back', () => {
    const ids = devices(10)
    deploy({values: {greeting: 'v1'}})
    report(ids)
    expect(ids.every(id => greetingOf(id) === 'v1')).toBe(true)
    deploy({values: {greeting: 'v2'}, strategy: {waves: ['1', '2'], onFailure: 'rollback'}})
    report(ids.filter(id => greetingOf(id) === 'v2'))
    const second = ids.filter(id => greetingOf(id) === 'v2' && reasons(APP).get(id)?.code === 'applying')
    expect(second.length).toBe(2)
    report(second.slice(0, 1), 'failed')
    expect(progress().phase).toBe('rolled-back')
    expect(ids.every(id => greetingOf(id) === 'v1')).toBe(true)
    expect(events.some(e => e.type === 'rollout.progress' && e.change === 'rolled_back' && e.actor === 'system')).toBe(true)
    expect(listAudit(h.store, {}).some(a => a.actor === 'system' && a.action === 'rollout.rolled_back')).toBe(true)
  })

  test('offline devices: wait up to the wave timeout, then the wave goes on without them; skip does not wait', () => {
    const ids = devices(6)
    h.store.setLastSeen([[ids[0]!, '2026-06-10T09:00:00.000Z']])
    seen.delete(ids[0]!)
    deploy({strategy: {waves: ['50%'], waveTimeout: '10m', offline: 'wait'}})
    const first = moved(ids)
    const online = first.filter(id => id !== ids[0])
    report(online)
    if (first.includes(ids[0]!)) {
      expect(reasons(APP).get(ids[0]!)).toEqual({code: 'offline', since: '2026-06-10T09:00:00.000Z'})
      expect(progress().wave).toBe(1)
      tick(11 * 60_000)
      service().advanceAll()
      expect(progress().wave).toBe(2)
      expect(reasons(APP).get(ids[0]!)).toMatchObject({code: 'skipped'})
    } else {
      expect(progress().wave).toBe(2)
    }
  })

  test('a window holds its devices until it opens', () => {
    const ids = devices(4, i => ({site: i < 2 ? 'berlin' : 'paris'}))
    createWindowService({store: h.store, now: () => clock}).add({name: 'night', selector: 'site=berlin', schedule: '0 2 * * *', duration: '2h', timeZone: 'Europe/Berlin'})
    deploy({strategy: {waves: []}})
    const berlin = ids.slice(0, 2)
    expect(moved(ids).sort()).toEqual(ids.slice(2))
    expect(reasons(APP).get(berlin[0]!)).toEqual({code: 'outside_window', windows: ['night'], nextAt: '2026-06-11T00:00:00.000Z'})
    clock = new Date('2026-06-11T00:05:00Z')
    service().advanceAll()
    expect(moved(ids).sort()).toEqual(ids)
  })

  test('--set-for and templates render per device; an unresolved template is refused with the device named, and the dry run lists it', () => {
    const ids = devices(3, i => (i < 2 ? {site: i === 0 ? 'berlin' : 'paris'} : {}) as Record<string, string>)
    let refused: ValidationError | undefined
    try { deploy({values: {greeting: 'hi ${device.labels.site}'}}) } catch (err) { refused = err as ValidationError }
    expect(refused?.code).toBe('unresolved_template')
    expect(refused?.details.map(d => d.path)).toEqual(['dev-002: greeting'])
    expect(moved(ids)).toEqual([])
    const dry = service().create({appId: APP, selector: 'fleet=f', profile: 'compose', values: {greeting: 'hi ${device.labels.site}'}}, {dryRun: true})
    expect(dry.skipped.map(s => s.clientId)).toEqual(['dev-002'])
    expect(dry.skipped[0]!.reason).toContain('no label site')

    deploy({values: {greeting: 'hi ${device.id}'}, setFor: [{selector: 'site=berlin', values: {greeting: 'hallo ${device.labels.site}'}}, {selector: 'site', values: {greeting: 'salut ${device.labels.site}'}}]})
    expect(ids.map(greetingOf)).toEqual(['salut berlin', 'salut paris', 'hi dev-002'])
  })

  test('bad input is refused before anything is created, every problem listed', () => {
    devices(2)
    let refused: ValidationError | undefined
    try {
      deploy({values: {greeting: '${device.name}'}, setFor: [{selector: 'site in (a', values: {}}], strategy: {waves: ['0', 'x in (y'], failureThreshold: 'lots', waveTimeout: 'never'}})
    } catch (err) { refused = err as ValidationError }
    expect(refused?.code).toBe('invalid_rollout')
    expect(refused?.details.map(d => d.path)).toEqual(['strategy.waves[0]', 'strategy.waves[1]', 'strategy.failureThreshold', 'strategy.waveTimeout', 'setFor[0].selector', 'values.greeting'])
    expect(service().list()).toEqual([])
    const windows = createWindowService({store: h.store, now: () => clock})
    let bad: ValidationError | undefined
    try { windows.add({name: 'Night', selector: 'a in (', schedule: '0 25 * *', duration: 'long', timeZone: 'Mars/Olympus'}) } catch (err) { bad = err as ValidationError }
    expect(bad?.details.map(d => d.path)).toEqual(['name', 'selector', 'schedule', 'duration', 'timeZone'])
    expect(windows.list()).toEqual([])
  })

  test('every reason has a stable code', () => {
    const ids = devices(8, i => (i === 7 ? {site: 'berlin'} : {}) as Record<string, string>)
    createWindowService({store: h.store, now: () => clock}).add({name: 'night', selector: 'site=berlin', schedule: '0 2 * * *', duration: '1h'})
    h.store.setLastSeen([[ids[1]!, '2026-06-10T09:00:00.000Z']])
    seen.delete(ids[1]!)
    deploy({strategy: {waves: ['6'], maxUnavailable: '5'}, profile: 'compose'})
    const codes = new Set<WhyReason['code']>([...reasons(APP).values()].map(r => r.code))
    const inFirst = moved(ids)
    report(inFirst.slice(0, 1), 'failed')
    for (const r of reasons(APP).values()) codes.add(r.code)
    expect([...codes].sort()).toEqual(['applying', 'failed', 'offline', 'outside_window', 'paused', 'waiting_for_wave'])
  })
})
