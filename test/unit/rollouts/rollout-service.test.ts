import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {ConflictError, NotFoundError, ValidationError} from '../../../src/util/errors.ts'
import {HELLO_WORLD_ID, serviceFixture, thrown} from '../server/service-fixture.ts'

let f: ReturnType<typeof serviceFixture>
beforeEach(async () => {
  f = serviceFixture()
  await f.publishHelloWorld()
})
afterEach(() => f.close())

describe('rollout service, called directly', () => {
  test('a rollout to listed devices deploys to each, stamped with the injected clock', () => {
    const a = f.addDevice('device-a')
    const result = f.services.rollouts.create({appId: HELLO_WORLD_ID, devices: [a], profile: 'compose'})
    expect(result.targets.map(t => [t.clientId, t.action])).toEqual([[a, 'create']])
    expect(f.services.rollouts.list()).toMatchObject([{rolloutId: result.rolloutId, createdAt: '2025-06-01T12:00:00.000Z', deployments: 1}])
  })

  test('an unknown rollout, or an unknown listed device, is a NotFoundError with its code', () => {
    const noRollout = thrown(() => f.services.rollouts.remove('00000000-0000-4000-8000-00000000beef'))
    expect(noRollout).toBeInstanceOf(NotFoundError)
    expect((noRollout as NotFoundError).code).toBe('rollout_not_found')
    const noDevice = thrown(() => f.services.rollouts.create({appId: HELLO_WORLD_ID, devices: ['nobody']}))
    expect(noDevice).toBeInstanceOf(NotFoundError)
    expect((noDevice as NotFoundError).code).toBe('device_not_found')
  })

  test('a malformed selector is a ValidationError with invalid_selector and a selector detail; a malformed request is bad_request', () => {
    const selector = thrown(() => f.services.rollouts.create({appId: HELLO_WORLD_ID, selector: 'site=a,line in (1,2'}))
    expect(selector).toBeInstanceOf(ValidationError)
    expect((selector as ValidationError).code).toBe('invalid_selector')
    expect((selector as ValidationError).details.map(d => d.path)).toEqual(['selector'])
    const both = thrown(() => f.services.rollouts.create({appId: HELLO_WORLD_ID, devices: ['device-a'], selector: ''}))
    expect(both).toBeInstanceOf(ValidationError)
    expect((both as ValidationError).code).toBe('bad_request')
  })

  test('a selector for a rollout that lists its devices is a ConflictError', () => {
    const a = f.addDevice('device-a')
    const {rolloutId} = f.services.rollouts.create({appId: HELLO_WORLD_ID, devices: [a], profile: 'compose'})
    const err = thrown(() => f.services.rollouts.update(rolloutId!, {selector: 'site=a'}))
    expect(err).toBeInstanceOf(ConflictError)
    expect((err as ConflictError).code).toBe('conflict')
  })
})
