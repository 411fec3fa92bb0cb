import {describe, expect, test} from 'bun:test'
import {chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {loadSecretKey, secretBox} from '../../../src/server/secrets/cipher.ts'
import {keepReferences, maskSecrets, secretUses, showReferences} from '../../../src/server/secrets/references.ts'

describe('secret references', () => {
  test('whole values, embedded references and list elements are found, shown and kept', () => {
    const values = {a: '${secret:db}', b: 'postgres://app:${secret:db}@${secret:host}/x', c: ['x', '${secret:tls}'], d: 3}
    expect([...secretUses(values)]).toEqual([['db', ['a', 'b']], ['host', ['b']], ['tls', ['c']]])
    expect(showReferences(values)).toEqual({a: '<secret:db>', b: 'postgres://app:<secret:db>@<secret:host>/x', c: ['x', '<secret:tls>'], d: 3})
    expect(keepReferences(values, {a: 'pw', b: 'postgres://app:pw@h/x', c: ['x', 'cert'], d: 3, e: 'default'}))
      .toEqual({a: '${secret:db}', b: 'postgres://app:${secret:db}@${secret:host}/x', c: ['x', '${secret:tls}'], d: 3, e: 'default'})
  })

  test('masking replaces values longest first', () => {
    expect(maskSecrets('got "abcdef" and "abc"', new Map([['short', 'abc'], ['long', 'abcdef']]))).toBe('got "<secret:long>" and "<secret:short>"')
  })
})

describe('secret box', () => {
  test('AES-256-GCM: a fresh nonce per value, the name bound as additional data', () => {
    const box = secretBox(new Uint8Array(32).fill(7))
    const a = box.seal('db', 'hunter2')
    const b = box.seal('db', 'hunter2')
    expect(Buffer.from(a.nonce).equals(Buffer.from(b.nonce))).toBe(false)
    expect(a.nonce.length).toBe(12)
    expect(Buffer.from(a.sealed).includes(Buffer.from('hunter2'))).toBe(false)
    expect(box.open('db', a)).toBe('hunter2')
    expect(() => box.open('other', a)).toThrow()
    expect(() => secretBox(new Uint8Array(32).fill(8)).open('db', a)).toThrow()
  })

  test('the key file is created with mode 0600 and refused when others can read it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'margo-key-'))
    try {
      const path = join(dir, 'secret.key')
      const key = loadSecretKey(path)
      expect(key.length).toBe(32)
      expect(statSync(path).mode & 0o777).toBe(0o600)
      expect(Buffer.from(loadSecretKey(path)).equals(Buffer.from(key))).toBe(true)
      expect(readFileSync(path, 'utf8').trim()).toBe(Buffer.from(key).toString('base64'))
      chmodSync(path, 0o644)
      expect(() => loadSecretKey(path)).toThrow(/readable by its owner only/)
      const other = join(dir, 'given.key')
      writeFileSync(other, Buffer.alloc(32, 1).toString('base64'), {mode: 0o600})
      expect(loadSecretKey(path, other)[0]).toBe(1)
      expect(() => loadSecretKey(path, join(dir, 'missing'))).toThrow(/does not exist/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
