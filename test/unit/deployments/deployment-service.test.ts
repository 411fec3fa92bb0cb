import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import type {ServerEvent} from '../../../src/server/events.ts'
import {ConflictError, NotFoundError, ValidationError} from '../../../src/util/errors.ts'
import {HELLO_WORLD_ID, serviceFixture, thrown} from '../server/service-fixture.ts'

let f: ReturnType<typeof serviceFixture>
beforeEach(async () => {
  f = serviceFixture()
  await f.publishHelloWorld()
})
afterEach(() => f.close())

describe('deployment service, called directly', () => {
  test('creates a deployment stamped with the injected clock and announces it', () => {
    const seen: ServerEvent[] = []
    f.events.subscribe(e => seen.push(e))
    const device = f.addDevice('device-a')
    const d = f.services.deployments.create({appId: HELLO_WORLD_ID, clientId: device, profile: 'compose'})
    expect(d.createdAt).toBe('2025-06-01T12:00:00.000Z')
    expect(seen).toContainEqual({type: 'deployment.changed', deploymentId: d.deploymentId, clientId: device})
  })

  test('an unknown device or deployment is a NotFoundError with its code', () => {
    const noDevice = thrown(() => f.services.deployments.create({appId: HELLO_WORLD_ID, clientId: 'nobody'}))
    expect(noDevice).toBeInstanceOf(NotFoundError)
    expect((noDevice as NotFoundError).code).toBe('device_not_found')
    const noDeployment = thrown(() => f.services.deployments.remove('00000000-0000-4000-8000-00000000beef'))
    expect(noDeployment).toBeInstanceOf(NotFoundError)
    expect((noDeployment as NotFoundError).code).toBe('deployment_not_found')
  })

  test('invalid values are a ValidationError with invalid_parameters and the field in each detail', () => {
    const device = f.addDevice('device-a')
    const err = thrown(() => f.services.deployments.create({appId: HELLO_WORLD_ID, clientId: device, profile: 'compose', values: {replicas: 'many'}}))
    expect(err).toBeInstanceOf(ValidationError)
    expect((err as ValidationError).code).toBe('invalid_parameters')
    expect((err as ValidationError).details.map(d => d.path)).toEqual(['parameters.replicas'])
  })

  test('a revoked device, or a change to a removed deployment, is a ConflictError', () => {
    const revoked = f.addDevice('device-r', 'revoked')
    const err = thrown(() => f.services.deployments.create({appId: HELLO_WORLD_ID, clientId: revoked}))
    expect(err).toBeInstanceOf(ConflictError)
    expect((err as ConflictError).code).toBe('device_revoked')

    const device = f.addDevice('device-a')
    const d = f.services.deployments.create({appId: HELLO_WORLD_ID, clientId: device, profile: 'compose'})
    f.services.deployments.remove(d.deploymentId)
    const removed = thrown(() => f.services.deployments.update(d.deploymentId, {values: {greeting: 'Hi'}}))
    expect(removed).toBeInstanceOf(ConflictError)
    expect((removed as ConflictError).code).toBe('conflict')
  })
})
