import {describe, expect, test} from 'bun:test'
import {PROBLEM_TYPE_BASE, PROBLEMS, problem, type ProblemSlug} from '../../../src/margo/problems.ts'

describe('§5.8: the Margo problem catalogue', () => {
  const catalogue: [ProblemSlug, number, string][] = [
    ['invalid-certificate-format', 400, 'Invalid Certificate'],
    ['invalid-digest-header', 400, 'Invalid Digest Header'],
    ['invalid-request', 400, 'Invalid Request'],
    ['signature-verification-failed', 401, 'Signature Verification Failed'],
    ['certificate-not-trusted', 403, 'Certificate Not Trusted'],
    ['invalid-client', 404, 'Invalid Client'],
    ['invalid-bundle', 404, 'Invalid Bundle'],
    ['deployment-not-found', 404, 'Deployment Not Found'],
    ['semantic-error', 422, 'Semantic Error'],
    ['server-cannot-generate-response', 406, 'Server Cannot Generate Response'],
  ]
  for (const [slug, status, title] of catalogue) {
    test(`${slug}: ${status} ${title}`, () => {
      const p = problem(slug, 'why')
      expect(p.status).toBe(status)
      expect(p.body).toMatchObject({type: `https://docs.margo.org/specification/problems/${slug}`, title, status, detail: 'why'})
    })
  }

  test('problems without a Margo type use about:blank and the reason phrase', () => {
    expect(problem('payload-too-large', 'too big').body).toMatchObject({type: 'about:blank', title: 'Payload Too Large', status: 413})
    expect(problem('method-not-allowed', 'no').body).toMatchObject({type: 'about:blank', title: 'Method Not Allowed', status: 405})
    for (const [slug, entry] of Object.entries(PROBLEMS)) {
      expect(problem(slug as ProblemSlug, '').body.type.startsWith(PROBLEM_TYPE_BASE)).toBe(entry.margo)
    }
  })
})

describe('C16: the error and errors extension members', () => {
  test('each slug carries the phrase G1 clients look for in `error`', () => {
    expect(problem('signature-verification-failed', '').body.error).toContain('Signature verification failed')
    expect(problem('invalid-client', '').body.error).toContain('Client not found')
    expect(problem('invalid-bundle', '').body.error).toContain('Bundle not found')
    expect(problem('deployment-not-found', '').body.error).toContain('Deployment not found for digest')
    expect(problem('invalid-digest-header', '').body.error).toContain('content-digest')
    expect(problem('invalid-certificate-format', '').body.error).toBe('Invalid certificate')
    expect(problem('certificate-not-trusted', '').body.error).toContain('Client rejected')
  })

  test('onboarding 400/403 can carry exactly the OpenAPI strings', () => {
    expect(problem('invalid-certificate-format', 'bad', {error: 'Invalid certificate'}).body.error).toBe('Invalid certificate')
    expect(problem('certificate-not-trusted', 'no', {error: 'Client rejected'}).body.error).toBe('Client rejected')
  })

  test('every 422 carries an errors array, the given one or an empty one', () => {
    expect(problem('semantic-error', 'bad').body.errors).toEqual([])
    const errors = [{field: 'status.state', message: 'must be one of …'}]
    expect(problem('semantic-error', 'bad', {errors}).body.errors).toEqual(errors)
  })

  test('extensions cannot overwrite the standard members', () => {
    const body = problem('invalid-client', 'unknown', {status: 200, type: 'x', instance: '/api/v1/clients/x', retryable: false}).body
    expect(body).toMatchObject({status: 404, type: `${PROBLEM_TYPE_BASE}invalid-client`, instance: '/api/v1/clients/x', retryable: false})
  })
})
