/**
 * Secrets at rest: AES-256-GCM with a random 96-bit nonce per value and the secret's name as
 * additional authenticated data, so a sealed value copied onto another name does not open.
 * The key is 32 random bytes in a file only the owner can read (the data dir's `secret.key`,
 * created at first start, or the file `margo serve --secret-key-file` names).
 */
import {createCipheriv, createDecipheriv, randomBytes} from 'node:crypto'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {writeSecretFile} from '../../util/fs.ts'
import {UsageError} from '../../util/errors.ts'

export const KEY_BYTES = 32
const NONCE_BYTES = 12
const TAG_BYTES = 16

export interface Sealed {
  nonce: Uint8Array
  /** Ciphertext followed by the 16-byte GCM tag. */
  sealed: Uint8Array
}

/** Seals and opens secret values under one key. */
export interface SecretBox {
  seal(name: string, value: string): Sealed
  /** Throws when the value was not sealed under this key and name. */
  open(name: string, sealed: Sealed): string
}

export function secretBox(key: Uint8Array): SecretBox {
  if (key.length !== KEY_BYTES) throw new RangeError(`a secret key is ${KEY_BYTES} bytes, got ${key.length}`)
  return {
    seal(name, value) {
      const nonce = randomBytes(NONCE_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, nonce)
      cipher.setAAD(Buffer.from(name, 'utf8'))
      const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()])
      return {nonce: new Uint8Array(nonce), sealed: new Uint8Array(body)}
    },
    open(name, {nonce, sealed}) {
      const bytes = Buffer.from(sealed)
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce))
      decipher.setAAD(Buffer.from(name, 'utf8'))
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8')
    },
  }
}

/** A key for a server without a data dir (tests): secrets then live as long as the process. */
export const ephemeralSecretBox = () => secretBox(randomBytes(KEY_BYTES))

/** The key file's text: 32 bytes, base64. */
function parseKey(text: string, path: string): Uint8Array {
  const t = text.trim()
  const bytes = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64')
  if (bytes.length !== KEY_BYTES) throw new UsageError(`${path} does not hold a ${KEY_BYTES}-byte key (base64 or hex) — generate one with: head -c 32 /dev/urandom | base64`)
  return new Uint8Array(bytes)
}

/**
 * The data dir's key, created (mode 0600) on first start; or the key in `keyFile`, which must
 * exist. A key file others can read is refused: it opens every secret.
 */
export function loadSecretKey(defaultPath: string, keyFile?: string): Uint8Array {
  const path = keyFile ?? defaultPath
  if (!existsSync(path)) {
    if (keyFile) throw new UsageError(`--secret-key-file ${keyFile} does not exist`)
    writeSecretFile(path, Buffer.from(randomBytes(KEY_BYTES)).toString('base64') + '\n')
  }
  if ((statSync(path).mode & 0o077) !== 0) throw new UsageError(`${path} can be read by others; the secret key must be readable by its owner only — run: chmod 600 ${path}`)
  return parseKey(readFileSync(path, 'utf8'), path)
}
