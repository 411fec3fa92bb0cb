import {readFileSync, statSync} from 'node:fs'
import {UsageError} from '../../util/errors.ts'
import type {BackupKey} from './archive.ts'

/** A passphrase shorter than this is refused when a backup is written. */
export const MIN_PASSPHRASE_LENGTH = 8

export interface KeyInputs {
  passphraseFile?: string | undefined
  keyFile?: string | undefined
  /** MARGO_BACKUP_PASSPHRASE */
  envPassphrase?: string | undefined
}

function readOwnerOnly(path: string, flag: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    throw new UsageError(`cannot read ${flag} ${path}`)
  }
  if ((statSync(path).mode & 0o077) !== 0) throw new UsageError(`${flag} ${path} can be read by others; it opens the backup — run: chmod 600 ${path}`)
  return text
}

/** A passphrase as given in a file or the environment: one trailing newline is not part of it. */
export function passphraseOf(text: string): string {
  return text.replace(/\r?\n$/, '')
}

/** A key file: 32 random bytes, base64 or hex (e.g. `head -c 32 /dev/urandom | base64`). */
export function keyOf(text: string, path: string): Uint8Array {
  const t = text.trim()
  const bytes = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64')
  if (bytes.length !== 32) throw new UsageError(`--key-file ${path} does not hold a 32-byte key (base64 or hex) — generate one with: head -c 32 /dev/urandom | base64 > ${path}`)
  return new Uint8Array(bytes)
}

/**
 * The key of a backup from the command line: --key-file, --passphrase-file or
 * MARGO_BACKUP_PASSPHRASE (in that order); null when none is given, for the command to ask on a
 * terminal or refuse. Never from a flag value: shell history and process lists would keep it.
 */
export function backupKeyFrom(inputs: KeyInputs): BackupKey | null {
  if (inputs.keyFile !== undefined) return {kind: 'key-file', key: keyOf(readOwnerOnly(inputs.keyFile, '--key-file'), inputs.keyFile)}
  const text = inputs.passphraseFile !== undefined ? passphraseOf(readOwnerOnly(inputs.passphraseFile, '--passphrase-file'))
    : inputs.envPassphrase !== undefined && inputs.envPassphrase !== '' ? passphraseOf(inputs.envPassphrase)
    : null
  if (text === null) return null
  if (text === '') throw new UsageError('the passphrase is empty')
  return {kind: 'passphrase', passphrase: text}
}

/** A new backup's passphrase must not be trivially short. */
export function checkNewPassphrase(key: BackupKey): BackupKey {
  if (key.kind === 'passphrase' && [...key.passphrase].length < MIN_PASSPHRASE_LENGTH) {
    throw new UsageError(`the passphrase is shorter than ${MIN_PASSPHRASE_LENGTH} characters; use a longer one or --key-file`)
  }
  return key
}
