import {afterEach, beforeEach, describe, expect, test} from 'bun:test'
import {ConflictError, NotFoundError, ValidationError} from '../../../src/util/errors.ts'
import {HELLO_WORLD_ID, HELLO_WORLD_YAML, serviceFixture} from '../server/service-fixture.ts'

let f: ReturnType<typeof serviceFixture>
beforeEach(() => { f = serviceFixture() })
afterEach(() => f.close())

const bytes = (text: string) => new TextEncoder().encode(text)

describe('catalog service, called directly', () => {
  test('publishes a version, and the same content again is a no-op', async () => {
    expect((await f.publishHelloWorld()).created).toBe(true)
    const again = await f.publishHelloWorld()
    expect(again.created).toBe(false)
    expect(again.record.publishedAt).toBe('2025-06-01T12:00:00.000Z')
  })

  test('an unknown app or version is a NotFoundError with the app_not_found code', async () => {
    expect(() => f.services.catalog.find('no-such-app')).toThrow(NotFoundError)
    await f.publishHelloWorld()
    try {
      f.services.catalog.find(HELLO_WORLD_ID, '9.9')
      throw new Error('expected a NotFoundError')
    } catch (err) {
      expect(err).toBeInstanceOf(NotFoundError)
      expect((err as NotFoundError).code).toBe('app_not_found')
      expect((err as NotFoundError).message).toContain('published versions: 1.0')
    }
  })

  test('an invalid description is a ValidationError with invalid_description and a detail per problem', async () => {
    const err = await f.services.catalog.publish({bytes: bytes('apiVersion: margo.org/v1-alpha1\nkind: ApplicationDescription\nmetadata: {}\n')}).catch(e => e)
    expect(err).toBeInstanceOf(ValidationError)
    expect(err.code).toBe('invalid_description')
    expect(err.details.length).toBeGreaterThan(0)
    for (const d of err.details) expect(Object.keys(d).sort()).toEqual(['message', 'path'])
  })

  test('the same version with other content is a ConflictError with the conflict code', async () => {
    await f.publishHelloWorld()
    const changed = new TextDecoder().decode(HELLO_WORLD_YAML).replace('name: Hello World', 'name: Hello There')
    const err = await f.services.catalog.publish({bytes: bytes(changed)}).catch(e => e)
    expect(err).toBeInstanceOf(ConflictError)
    expect(err.code).toBe('conflict')
    expect(err.exitCode).toBe(1)
  })
})
