import {createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, scryptSync, timingSafeEqual} from 'node:crypto'
import {OperationError, UsageError} from '../../util/errors.ts'

/**
 * The encrypted backup file:
 *
 *   "MARGOBK1" | u32 big-endian header length | header (JSON) | ciphertext | 16-byte GCM tag
 *
 * AES-256-GCM with a random 96-bit nonce; the magic, length and header are its additional data,
 * so neither the key derivation parameters nor anything else can be changed unnoticed. The key
 * comes from a passphrase (scrypt, random salt) or from a key file of 32 random bytes (HKDF with
 * a random salt, so no two backups share a key). The header also carries a short MAC of a fixed
 * string under the key: a wrong passphrase is then told apart from an altered file.
 */
const MAGIC = new TextEncoder().encode('MARGOBK1')
const TAG_BYTES = 16
const KEY_CHECK_LABEL = 'margo backup key check'
/** scrypt cost: 128 MiB and about half a second on a small machine, per backup or restore. */
export const SCRYPT = {N: 2 ** 17, r: 8, p: 1}
/** A header may not ask for more than this (a crafted file must not exhaust memory). */
const MAX_SCRYPT_N = 2 ** 20

export type BackupKey =
  | {kind: 'passphrase', passphrase: string}
  | {kind: 'key-file', key: Uint8Array}

interface Header {
  format: 1
  cipher: 'aes-256-gcm'
  kdf: {name: 'scrypt', N: number, r: number, p: number, salt: string} | {name: 'hkdf-sha256', salt: string}
  iv: string
  keyCheck: string
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

function deriveKey(source: BackupKey, kdf: Header['kdf']): Buffer {
  const salt = Buffer.from(kdf.salt, 'base64')
  if (kdf.name === 'scrypt') {
    if (source.kind !== 'passphrase') throw new OperationError('this backup was made with a passphrase: give --passphrase-file or MARGO_BACKUP_PASSPHRASE, not --key-file', {code: 'wrong_key_kind'})
    const {N, r, p} = kdf
    if (![N, r, p].every(Number.isSafeInteger) || N < 2 || N > MAX_SCRYPT_N || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) {
      throw new OperationError('the backup header asks for scrypt parameters out of range: the file is damaged or not a margo backup', {code: 'bad_backup'})
    }
    return scryptSync(source.passphrase.normalize('NFC'), salt, 32, {N, r, p, maxmem: 256 * N * r})
  }
  if (source.kind !== 'key-file') throw new OperationError('this backup was made with a key file: give --key-file, not a passphrase', {code: 'wrong_key_kind'})
  return Buffer.from(hkdfSync('sha256', source.key, salt, 'margo backup', 32))
}

const keyCheck = (key: Buffer) => createHmac('sha256', key).update(KEY_CHECK_LABEL).digest().subarray(0, 16)

/** Encrypts `plain` into a backup file's bytes. `scrypt` is lowered only by tests. */
export function sealBackup(plain: Uint8Array, source: BackupKey, scrypt = SCRYPT): Uint8Array {
  const salt = b64(randomBytes(16))
  const kdf: Header['kdf'] = source.kind === 'passphrase' ? {name: 'scrypt', ...scrypt, salt} : {name: 'hkdf-sha256', salt}
  const key = deriveKey(source, kdf)
  const iv = randomBytes(12)
  const header: Header = {format: 1, cipher: 'aes-256-gcm', kdf, iv: b64(iv), keyCheck: b64(keyCheck(key))}
  const headerBytes = new TextEncoder().encode(JSON.stringify(header))
  const prefix = Buffer.alloc(MAGIC.length + 4 + headerBytes.length)
  prefix.set(MAGIC, 0)
  prefix.writeUInt32BE(headerBytes.length, MAGIC.length)
  prefix.set(headerBytes, MAGIC.length + 4)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(prefix)
  const body = Buffer.concat([cipher.update(plain), cipher.final()])
  return new Uint8Array(Buffer.concat([prefix, body, cipher.getAuthTag()]))
}

/**
 * Decrypts a backup file, or refuses it: not a backup, a wrong passphrase or key, or a file
 * altered or cut short (the GCM tag). Nothing of the content is returned unless the tag holds.
 */
export function openBackup(file: Uint8Array, source: BackupKey): Uint8Array {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength)
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new UsageError('not a margo backup file (it does not start with the margo backup signature)')
  }
  const headerLength = bytes.readUInt32BE(MAGIC.length)
  const bodyStart = MAGIC.length + 4 + headerLength
  if (bodyStart + TAG_BYTES > bytes.length) throw new OperationError('the backup file is cut short: restore from a complete copy', {code: 'bad_backup'})
  let header: Header
  try {
    header = JSON.parse(bytes.subarray(MAGIC.length + 4, bodyStart).toString('utf8')) as Header
  } catch {
    throw new OperationError('the backup header is damaged: restore from another copy', {code: 'bad_backup'})
  }
  if (header.format !== 1 || header.cipher !== 'aes-256-gcm' || typeof header.iv !== 'string' || typeof header.keyCheck !== 'string' || !header.kdf || typeof header.kdf.salt !== 'string') {
    throw new OperationError('the backup header is not one this margo reads (format 1, aes-256-gcm)', {code: 'bad_backup'})
  }
  const key = deriveKey(source, header.kdf)
  const check = Buffer.from(header.keyCheck, 'base64')
  const expected = keyCheck(key)
  if (check.length !== expected.length || !timingSafeEqual(check, expected)) {
    throw new OperationError(source.kind === 'passphrase' ? 'wrong passphrase for this backup' : 'wrong key file for this backup', {code: 'wrong_key'})
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64'))
  decipher.setAAD(bytes.subarray(0, bodyStart))
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
  try {
    return new Uint8Array(Buffer.concat([decipher.update(bytes.subarray(bodyStart, bytes.length - TAG_BYTES)), decipher.final()]))
  } catch {
    throw new OperationError('the backup file was altered or damaged (its authentication tag does not match): nothing was restored', {code: 'tampered_backup'})
  }
}
