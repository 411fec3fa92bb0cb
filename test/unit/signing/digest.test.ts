import {describe, expect, test} from 'bun:test'
import {createHash} from 'node:crypto'
import {checkContentDigest, contentDigest} from '../../../src/signing/index.ts'

const enc = (s: string) => new TextEncoder().encode(s)
// RFC 9530 §B / RFC 9421 §B.2: the body {"hello": "world"} and its digests.
const HELLO = enc('{"hello": "world"}')
const HELLO_SHA256 = 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:'
const HELLO_SHA512 = 'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:'

describe('contentDigest', () => {
  test('CL-10: sha-256 of the exact body bytes, RFC 9530 example', () => {
    expect(contentDigest(HELLO)).toBe(HELLO_SHA256)
    expect(contentDigest('{"hello": "world"}')).toBe(HELLO_SHA256)
  })

  test('CL-10: digest of the empty body is the sha-256 of zero bytes', () => {
    const b64 = createHash('sha256').update(new Uint8Array(0)).digest('base64')
    expect(contentDigest(new Uint8Array(0))).toBe(`sha-256=:${b64}:`)
  })

  test('CL-10: a different body gives a different digest', () => {
    expect(contentDigest(enc('{"hello": "World"}'))).not.toBe(HELLO_SHA256)
  })
})

describe('checkContentDigest', () => {
  test('WFM-14: accepts a matching sha-256 digest', () => {
    expect(checkContentDigest(HELLO_SHA256, HELLO)).toBe('ok')
  })

  test('WFM-14: missing header', () => {
    expect(checkContentDigest(undefined, HELLO)).toBe('missing')
    expect(checkContentDigest(null, HELLO)).toBe('missing')
    expect(checkContentDigest('  ', HELLO)).toBe('missing')
  })

  test('WFM-14: a body that does not match the digest is a mismatch', () => {
    expect(checkContentDigest(HELLO_SHA256, enc('{"hello": "world!"}'))).toBe('mismatch')
  })

  test('WFM-14: not a structured dictionary is malformed', () => {
    expect(checkContentDigest('X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=', HELLO)).toBe('malformed')
    expect(checkContentDigest('sha-256=:not base64!:', HELLO)).toBe('malformed')
    expect(checkContentDigest('sha-256="X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="', HELLO)).toBe('malformed')
    expect(checkContentDigest('sha-256=(:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:)', HELLO)).toBe('malformed')
  })

  test('WFM-14: sha-256 is required even when another known digest is present', () => {
    expect(checkContentDigest(HELLO_SHA512, HELLO)).toBe('malformed')
  })

  test('WFM-14: a truncated digest value is a mismatch, not a crash', () => {
    expect(checkContentDigest('sha-256=:X48E9qOokqqrvdts8nOJ:', HELLO)).toBe('mismatch')
  })

  test('sha-512 is verified too when present', () => {
    expect(checkContentDigest(`${HELLO_SHA256}, ${HELLO_SHA512}`, HELLO)).toBe('ok')
    const wrong512 = contentDigest('x').replace('sha-256', 'sha-512')
    expect(checkContentDigest(`${HELLO_SHA256}, ${wrong512}`, HELLO)).toBe('mismatch')
  })

  test('unknown digest algorithms are ignored', () => {
    expect(checkContentDigest(`md5=:AAAA:, ${HELLO_SHA256}`, HELLO)).toBe('ok')
  })
})
