import {describe, expect, test} from 'bun:test'
import {createHash} from 'node:crypto'
import {DIGEST_PATTERN, parseDigest, sha256Digest, verifyDigest} from '../../../src/margo/digest.ts'
import {isUuid, UUID_PATTERN} from '../../../src/margo/uuid.ts'

const hex = (s: string) => createHash('sha256').update(s).digest('hex')

describe('WFM-32: content digests', () => {
  test('sha256Digest is "sha256:" plus 64 lowercase hex digits of the exact bytes', () => {
    expect(sha256Digest(new TextEncoder().encode('abc'))).toBe(`sha256:${hex('abc')}`)
    expect(sha256Digest('abc')).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    expect(sha256Digest('')).toMatch(DIGEST_PATTERN)
    // One changed byte (a trailing newline) is a different digest: no normalization.
    expect(sha256Digest('abc\n')).not.toBe(sha256Digest('abc'))
  })

  test('DIGEST_PATTERN accepts only the strict form', () => {
    expect(DIGEST_PATTERN.test(`sha256:${hex('x')}`)).toBe(true)
    expect(DIGEST_PATTERN.test(`sha256:${hex('x').toUpperCase()}`)).toBe(false)
    expect(DIGEST_PATTERN.test(`SHA256:${hex('x')}`)).toBe(false)
    expect(DIGEST_PATTERN.test(` sha256:${hex('x')}`)).toBe(false)
  })
})

describe('CL-19: digest parsing separates unsupported algorithms from garbage', () => {
  test('sha256 with 64 lowercase hex digits parses', () => {
    expect(parseDigest(`sha256:${hex('x')}`)).toEqual({ok: true, algorithm: 'sha256', hex: hex('x')})
  })

  test('a well-formed digest of another algorithm is unsupported', () => {
    expect(parseDigest(`sha512:${'ab'.repeat(64)}`)).toEqual({ok: false, reason: 'unsupported-algorithm'})
    expect(parseDigest('blake3:00ff')).toEqual({ok: false, reason: 'unsupported-algorithm'})
  })

  test('anything else is malformed', () => {
    for (const s of ['not-the-right-digest', `sha256:${hex('x').toUpperCase()}`, 'sha256:abc', `SHA256:${hex('x')}`, `sha256:${hex('x')} `, '', `sha256:${hex('x')}00`, ':00', 'sha256:']) {
      expect(parseDigest(s)).toEqual({ok: false, reason: 'malformed'})
    }
  })

  test('verifyDigest checks bytes against a digest and refuses unusable digests', () => {
    const d = sha256Digest('payload')
    expect(verifyDigest('payload', d)).toBe(true)
    expect(verifyDigest(new TextEncoder().encode('payload'), d)).toBe(true)
    expect(verifyDigest('payload!', d)).toBe(false)
    expect(verifyDigest('payload', d.toUpperCase())).toBe(false)
    expect(verifyDigest('payload', `sha512:${'ab'.repeat(64)}`)).toBe(false)
  })
})

describe('UUIDs', () => {
  test('the spec pattern, either case', () => {
    expect(isUuid('a3e2f5dc-912e-494f-8395-52cf3769bc06')).toBe(true)
    expect(isUuid('A3E2F5DC-912E-494F-8395-52CF3769BC06')).toBe(true)
    expect(isUuid('deployment-none-00000000')).toBe(false)
    expect(isUuid('a3e2f5dc912e494f839552cf3769bc06')).toBe(false)
    expect(isUuid(42)).toBe(false)
    expect(UUID_PATTERN.test('a3e2f5dc-912e-494f-8395-52cf3769bc06\n')).toBe(false)
  })
})
