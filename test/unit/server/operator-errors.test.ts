import {describe, expect, test} from 'bun:test'
import {badRequest, conflict, invalid, notFound} from '../../../src/server/domain-errors.ts'
import {OperatorError, toOperatorError} from '../../../src/server/operator-api/errors.ts'
import {UsageError} from '../../../src/util/errors.ts'

async function answer(err: unknown) {
  const res = toOperatorError(err)!.toResponse()
  return {status: res.status, body: await res.json()}
}

describe('domain errors become operator API answers in one place', () => {
  test('not found → 404 with the kind in the code', async () => {
    expect(await answer(notFound('rollout', 'r1', 'list them'))).toEqual({status: 404, body: {error: {code: 'rollout_not_found', message: 'rollout r1 not found — list them'}}})
  })

  test('invalid → 422 with its code and details; a malformed request → 400 bad_request', async () => {
    expect(await answer(invalid('invalid_parameters', 'bad values', [{field: 'parameters.replicas', message: 'must be an integer'}]))).toEqual({
      status: 422, body: {error: {code: 'invalid_parameters', message: 'bad values', details: [{path: 'parameters.replicas', message: 'must be an integer'}]}},
    })
    expect(await answer(badRequest('appId is required'))).toEqual({status: 400, body: {error: {code: 'bad_request', message: 'appId is required'}}})
  })

  test('conflict → 409 with its code', async () => {
    expect(await answer(conflict('device d is revoked', 'device_revoked'))).toEqual({status: 409, body: {error: {code: 'device_revoked', message: 'device d is revoked'}}})
  })

  test('HTTP errors pass as they are; anything else is left to the 500 answer', () => {
    const tooLarge = new OperatorError(413, 'payload_too_large', 'too big')
    expect(toOperatorError(tooLarge)).toBe(tooLarge)
    expect(toOperatorError(new Error('bug'))).toBeNull()
    expect(toOperatorError(new UsageError('not a server error'))).toBeNull()
  })
})
