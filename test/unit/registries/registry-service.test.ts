import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {ConflictError, NotFoundError, ValidationError} from '../../../src/util/errors.ts'
import {serviceFixture, thrown} from '../server/service-fixture.ts'

let f: ReturnType<typeof serviceFixture>
beforeEach(() => { f = serviceFixture() })
afterEach(() => f.close())

const GIT = {name: 'local', kind: 'git', url: '/srv/packages.git'}

describe('registry service, called directly', () => {
  test('adds a registry stamped with the injected clock', () => {
    expect(f.services.registries.create(GIT)).toMatchObject({name: 'local', kind: 'git', createdAt: '2025-06-01T12:00:00.000Z', hasCredentials: false})
  })

  test('an unknown registry is a NotFoundError with registry_not_found', async () => {
    for (const call of [() => f.services.registries.show('nope'), () => f.services.registries.remove('nope')]) {
      const err = thrown(call)
      expect(err).toBeInstanceOf(NotFoundError)
      expect((err as NotFoundError).code).toBe('registry_not_found')
    }
    const err = await f.services.registries.syncNow('nope').catch(e => e)
    expect(err).toBeInstanceOf(NotFoundError)
  })

  test('an invalid registry is a ValidationError with invalid_registry and a detail per field', () => {
    const err = thrown(() => f.services.registries.create({name: 'Bad Name', kind: 'svn'}))
    expect(err).toBeInstanceOf(ValidationError)
    expect((err as ValidationError).code).toBe('invalid_registry')
    expect((err as ValidationError).details.map(d => d.path)).toEqual(expect.arrayContaining(['name', 'kind']))
  })

  test('a name already taken is a ConflictError', () => {
    f.services.registries.create(GIT)
    const err = thrown(() => f.services.registries.create(GIT))
    expect(err).toBeInstanceOf(ConflictError)
    expect((err as ConflictError).code).toBe('conflict')
  })
})
