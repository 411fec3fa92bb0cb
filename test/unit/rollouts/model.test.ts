import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {ConflictError, ValidationError} from '../../../src/util/errors.ts'
import {HELLO_WORLD_ID, HELLO_WORLD_YAML, serviceFixture, thrown} from '../server/service-fixture.ts'
import {buildTargetStatus} from '../../../src/server/fleet-status/views.ts'

let f: ReturnType<typeof serviceFixture>
beforeEach(async () => {
  f = serviceFixture()
  await f.publishHelloWorld()
})
afterEach(() => f.close())

const resolved = (deploymentId: string) => (JSON.parse(f.store.getDeployment(deploymentId)!.valuesJson) as {resolved: Record<string, unknown>}).resolved
const deploy = (values: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  f.services.rollouts.create({appId: HELLO_WORLD_ID, devices: ['device-a'], profile: 'compose', values, ...extra})

describe('one rollout per name, a revision per change', () => {
  beforeEach(() => { f.addDevice('device-a') })

  test('deploying twice with different values updates the rollout in place: one rollout, two revisions, same deploymentId', () => {
    const first = deploy({greeting: 'Servus'})
    const second = deploy({greeting: 'Hi'})
    expect([first.change, first.revision, second.change, second.revision, second.changed]).toEqual(['created', 1, 'updated', 2, ['values']])
    expect(second.rolloutId).toBe(first.rolloutId)
    expect(second.name).toBe(HELLO_WORLD_ID)
    expect(second.targets).toEqual([expect.objectContaining({deploymentId: first.targets[0]!.deploymentId, action: 'update'})])
    expect(f.services.rollouts.list()).toHaveLength(1)
    expect(f.store.listDeployments({clientId: 'device-a', desired: 'present'})).toHaveLength(1)
    expect(resolved(first.targets[0]!.deploymentId!).greeting).toBe('Hi')

    const history = f.services.rollouts.history(HELLO_WORLD_ID)
    expect(history.history.map(h => [h.revision, h.actor, h.changed])).toEqual([[1, 'operator', []], [2, 'operator', ['values']]])
    expect(history.history[0]!.valuesDigest).not.toBe(history.history[1]!.valuesDigest)
  })

  test('the same request again is unchanged and adds no revision', () => {
    deploy({greeting: 'Hi'})
    const again = deploy({greeting: 'Hi'}, {actor: 'someone'})
    expect([again.change, again.revision]).toEqual(['unchanged', 1])
    expect(f.services.rollouts.history(HELLO_WORLD_ID).history).toHaveLength(1)
  })

  test('the actor is recorded with each revision', () => {
    f.services.rollouts.create({appId: HELLO_WORLD_ID, devices: ['device-a'], profile: 'compose'}, {actor: 'ci-token'})
    expect(f.services.rollouts.history(HELLO_WORLD_ID).history[0]!.actor).toBe('ci-token')
  })

  test('a rollout name is a DNS label, and a name belongs to one app', () => {
    const bad = thrown(() => deploy({}, {name: 'Canary_1'}))
    expect(bad).toBeInstanceOf(ValidationError)
    expect((bad as ValidationError).code).toBe('invalid_name')
    deploy({}, {name: 'canary'})
    const taken = thrown(() => f.services.rollouts.create({name: 'canary', appId: 'other-app', devices: ['device-a']}))
    expect(taken).toBeInstanceOf(ConflictError)
    expect((taken as ConflictError).code).toBe('rollout_name_taken')
  })
})

describe('ownership', () => {
  test('a second rollout of the app onto the same device is refused, naming the rollout and the device; a dry run too', () => {
    f.addDevice('device-a')
    f.addDevice('device-b')
    deploy({})
    for (const dryRun of [false, true]) {
      const err = thrown(() => f.services.rollouts.create({name: 'second', appId: HELLO_WORLD_ID, devices: ['device-b', 'device-a'], profile: 'compose'}, {dryRun}))
      expect(err).toBeInstanceOf(ConflictError)
      expect((err as ConflictError).code).toBe('rollout_conflict')
      expect((err as Error).message).toStartWith(`rollout ${HELLO_WORLD_ID} already targets device device-a`)
    }
    expect(f.services.rollouts.list()).toHaveLength(1)
    // Other devices are fine.
    expect(f.services.rollouts.create({name: 'second', appId: HELLO_WORLD_ID, devices: ['device-b'], profile: 'compose'}).change).toBe('created')
  })

  test('a device that later matches two selectors stays with the rollout that has it; the other reports it skipped', () => {
    f.addDevice('device-a')
    f.store.setLabels('device-a', {site: 'a'})
    const first = f.services.rollouts.create({name: 'by-site', appId: HELLO_WORLD_ID, selector: 'site=a', profile: 'compose'})
    const second = f.services.rollouts.create({name: 'by-line', appId: HELLO_WORLD_ID, selector: 'line=1', profile: 'compose'})
    f.store.setLabels('device-a', {site: 'a', line: '1'})
    f.services.rollouts.reconcileDevice('device-a')
    const present = f.store.listDeployments({clientId: 'device-a', desired: 'present'})
    expect(present.map(d => d.deploymentId)).toEqual([first.targets[0]!.deploymentId!])
    const detail = f.services.rollouts.detail('by-line', d => d.deploymentId)
    expect(detail.targets).toEqual([])
    expect(detail.skipped).toEqual([{clientId: 'device-a', reason: expect.stringContaining('of rollout by-site, which keeps it')}])
    expect(second.targets).toEqual([])
  })
})

describe('undeploy', () => {
  test('removes the rollout\'s deployments and restores nothing', () => {
    f.addDevice('device-a')
    const a = deploy({}, {name: 'a'})
    const removal = f.services.rollouts.remove('a')
    expect(removal).toEqual({rolloutId: a.rolloutId!, name: 'a', removed: [{clientId: 'device-a', deploymentId: a.targets[0]!.deploymentId!}], forgotten: []})
    f.services.rollouts.reconcileDevice('device-a')
    expect(f.store.listDeployments({clientId: 'device-a', desired: 'present'})).toEqual([])
  })

  test('a deployment id of a listed rollout takes its device off the list as a new revision', () => {
    f.addDevice('device-a')
    f.addDevice('device-b')
    const r = f.services.rollouts.create({appId: HELLO_WORLD_ID, devices: ['device-a', 'device-b'], profile: 'compose'})
    const onA = r.targets.find(t => t.clientId === 'device-a')!.deploymentId!
    expect(f.services.rollouts.removeDeployment(onA).desired).toBe('absent')
    const detail = f.services.rollouts.detail(HELLO_WORLD_ID, d => d.clientId)
    expect([detail.revision, detail.devices, detail.targets]).toEqual([2, ['device-b'], ['device-b']])
  })

  test('--forget records unconfirmed removals as removed-unconfirmed, also after the rollout is gone', () => {
    f.addDevice('device-a')
    const r = deploy({})
    const id = r.targets[0]!.deploymentId!
    f.services.rollouts.remove(HELLO_WORLD_ID)
    const forgotten = f.services.rollouts.remove(HELLO_WORLD_ID, {forget: true})
    expect(forgotten.forgotten).toEqual([{clientId: 'device-a', deploymentId: id}])
    const d = f.store.getDeployment(id)!
    expect(d.forgottenAt).toBe('2025-06-01T12:00:00.000Z')
    const view = buildTargetStatus(id, 'deployment', [], [{deployment: d, timeline: []}], {now: new Date(), thresholds: {staleAfterMs: 1, offlineAfterMs: 2}})
    expect(view.deployments[0]!.state).toBe('removed-unconfirmed')
  })
})

describe('rollback', () => {
  beforeEach(() => { f.addDevice('device-a') })

  test('undo makes a new revision equal to the previous one: same deploymentIds, previous values', () => {
    const first = deploy({greeting: 'Servus'})
    deploy({greeting: 'Hi'})
    const undone = f.services.rollouts.undo(HELLO_WORLD_ID)
    expect([undone.change, undone.revision]).toEqual(['updated', 3])
    expect(undone.targets.map(t => t.deploymentId)).toEqual([first.targets[0]!.deploymentId])
    expect(resolved(first.targets[0]!.deploymentId!).greeting).toBe('Servus')
    expect(f.services.rollouts.history(HELLO_WORLD_ID).history.at(-1)!.cause).toBe('undo to revision 1')
    // --to-revision picks one; the current one or an unknown one is refused.
    expect(f.services.rollouts.undo(HELLO_WORLD_ID, {toRevision: 2}).revision).toBe(4)
    expect(thrown(() => f.services.rollouts.undo(HELLO_WORLD_ID, {toRevision: 9}))).toBeInstanceOf(ConflictError)
  })

  test('values the target version no longer accepts are reported before anything changes', async () => {
    // Revision 1 follows the latest version (1.0 then) with a 6-character greeting.
    const first = deploy({greeting: 'Servus'})
    const strict = new TextDecoder().decode(HELLO_WORLD_YAML).replace('version: "1.0"', 'version: "2.0"').replace('maxLength: 45', 'maxLength: 5')
    await f.services.catalog.publish({bytes: new TextEncoder().encode(strict)})
    deploy({greeting: 'Hi'}, {version: '2.0'})
    const id = first.targets[0]!.deploymentId!
    const digest = f.store.getDeployment(id)!.digest
    // Back to revision 1 means the latest version, 2.0, which refuses the greeting.
    const err = thrown(() => f.services.rollouts.undo(HELLO_WORLD_ID))
    expect(err).toBeInstanceOf(ValidationError)
    expect((err as ValidationError).details.map(d => d.path)).toEqual(['parameters.greeting'])
    expect(f.services.rollouts.history(HELLO_WORLD_ID).revision).toBe(2)
    expect(f.store.getDeployment(id)!.digest).toBe(digest)
  })
})
