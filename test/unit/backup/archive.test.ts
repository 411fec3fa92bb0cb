import {describe, expect, test} from 'bun:test'
import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {openBackup, sealBackup} from '../../../src/server/backup/archive.ts'
import {packContents, unpackContents} from '../../../src/server/backup/contents.ts'
import {backupKeyFrom, checkNewPassphrase} from '../../../src/server/backup/key-source.ts'

// Cheap scrypt for tests; the format carries the parameters, so opening needs no change.
const FAST = {N: 2 ** 10, r: 8, p: 1}
const plain = new TextEncoder().encode('the fleet, whole')
const passphrase = {kind: 'passphrase' as const, passphrase: 'correct horse battery staple'}
const keyFile = {kind: 'key-file' as const, key: new Uint8Array(32).fill(7)}

describe('backup encryption', () => {
  test('a passphrase or a key file opens what it sealed; two seals of the same bytes differ (salt, nonce)', () => {
    const a = sealBackup(plain, passphrase, FAST)
    expect(openBackup(a, passphrase)).toEqual(plain)
    expect(Buffer.from(sealBackup(plain, passphrase, FAST)).equals(Buffer.from(a))).toBe(false)
    expect(openBackup(sealBackup(plain, keyFile), keyFile)).toEqual(plain)
    expect(Buffer.from(a).includes(Buffer.from('the fleet'))).toBe(false)
  })

  test('a wrong passphrase or key is named as such', () => {
    expect(() => openBackup(sealBackup(plain, passphrase, FAST), {kind: 'passphrase', passphrase: 'wrong horse'})).toThrow('wrong passphrase for this backup')
    expect(() => openBackup(sealBackup(plain, keyFile), {kind: 'key-file', key: new Uint8Array(32).fill(8)})).toThrow('wrong key file for this backup')
    expect(() => openBackup(sealBackup(plain, keyFile), passphrase)).toThrow('made with a key file')
  })

  test('any altered byte, in the ciphertext, the tag or the header, is refused', () => {
    const sealed = sealBackup(plain, passphrase, FAST)
    for (const at of [sealed.length - 20, sealed.length - 1]) {
      const bad = sealed.slice()
      bad[at]! ^= 1
      expect(() => openBackup(bad, passphrase)).toThrow('altered or damaged')
    }
    // The nonce in the header is authenticated too: change one base64 character of it.
    const text = Buffer.from(sealed).toString('latin1')
    const iv = /"iv":"([^"]+)"/.exec(text)![1]!
    const swapped = iv[0] === 'A' ? `B${iv.slice(1)}` : `A${iv.slice(1)}`
    expect(() => openBackup(new Uint8Array(Buffer.from(text.replace(iv, swapped), 'latin1')), passphrase)).toThrow('altered or damaged')
    expect(() => openBackup(sealed.slice(0, sealed.length - 30), passphrase)).toThrow()
    expect(() => openBackup(new TextEncoder().encode('SQLite format 3\0'), passphrase)).toThrow('not a margo backup file')
  })

  test('a header asking for scrypt parameters out of range is refused before any work', () => {
    // Same length, so the header still parses: only the parameter check can refuse it.
    const text = Buffer.from(sealBackup(plain, passphrase, FAST)).toString('latin1').replace('"N":1024', '"N":9999')
    expect(() => openBackup(new Uint8Array(Buffer.from(text, 'latin1')), passphrase)).toThrow('out of range')
  })
})

describe('backup contents', () => {
  const index = {format: 1 as const, createdAt: '2027-01-15T10:00:00.000Z', margoVersion: '0.1.0', schemaVersion: 14, devices: 2, deployments: 1}

  test('the database and key files come back byte for byte', () => {
    const files = [{name: 'margo.db', bytes: new Uint8Array([1, 2, 3])}, {name: 'tls/ca.key', bytes: new TextEncoder().encode('-----BEGIN')}]
    expect(unpackContents(packContents({index, files}))).toEqual({index, files})
  })

  test('only the data dir\'s known files are accepted: no path can leave the directory', () => {
    expect(() => unpackContents(packContents({index, files: [{name: 'margo.db', bytes: new Uint8Array(1)}, {name: '../../etc/passwd', bytes: new Uint8Array(1)}]}))).toThrow('unexpected entry')
    expect(() => unpackContents(packContents({index, files: [{name: 'tls/ca.pem', bytes: new Uint8Array(1)}]}))).toThrow('no margo.db')
  })
})

describe('the backup key on the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'margo-key-'))
  const file = (name: string, text: string, mode = 0o600) => {
    const path = join(dir, name)
    writeFileSync(path, text)
    chmodSync(path, mode)
    return path
  }

  test('a passphrase file loses one trailing newline; the environment is the fallback; nothing given is null', () => {
    expect(backupKeyFrom({passphraseFile: file('p', 'long enough phrase\n')})).toEqual({kind: 'passphrase', passphrase: 'long enough phrase'})
    expect(backupKeyFrom({envPassphrase: 'from the environment'})).toEqual({kind: 'passphrase', passphrase: 'from the environment'})
    expect(backupKeyFrom({})).toBeNull()
  })

  test('a key file holds 32 bytes in base64 or hex, readable by its owner only', () => {
    expect(backupKeyFrom({keyFile: file('k', `${Buffer.alloc(32, 7).toString('base64')}\n`)})).toEqual(keyFile)
    expect(backupKeyFrom({keyFile: file('h', Buffer.alloc(32, 7).toString('hex'))})).toEqual(keyFile)
    expect(() => backupKeyFrom({keyFile: file('short', 'c2hvcnQ=')})).toThrow('32-byte key')
    expect(() => backupKeyFrom({keyFile: file('open', Buffer.alloc(32).toString('base64'), 0o644)})).toThrow('can be read by others')
  })

  test('a new backup refuses an empty or short passphrase', () => {
    expect(() => backupKeyFrom({passphraseFile: file('empty', '\n')})).toThrow('empty')
    expect(() => checkNewPassphrase({kind: 'passphrase', passphrase: 'short'})).toThrow('shorter than 8')
  })
})
