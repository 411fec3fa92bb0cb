import {Flags} from '@oclif/core'
import {askHidden} from '../src/cli/prompt.ts'
import type {BackupKey} from '../src/server/backup/archive.ts'
import {backupKeyFrom} from '../src/server/backup/key-source.ts'
import {UsageError} from '../src/util/errors.ts'

/** How `margo backup` and `margo restore` are given the backup's key. */
export const backupKeyFlags = {
  'passphrase-file': Flags.string({summary: 'Read the passphrase from this file (mode 0600; one trailing newline is dropped). Env: MARGO_BACKUP_PASSPHRASE.', exclusive: ['key-file']}),
  'key-file': Flags.string({summary: 'Use this key file instead of a passphrase: 32 random bytes, base64 or hex (head -c 32 /dev/urandom | base64).', exclusive: ['passphrase-file']}),
}

/** The key from the flags or the environment; asked on a terminal (twice when `confirm`), refused without one. */
export async function backupKey(flags: {'passphrase-file'?: string | undefined, 'key-file'?: string | undefined}, confirm: boolean): Promise<BackupKey> {
  const given = backupKeyFrom({passphraseFile: flags['passphrase-file'], keyFile: flags['key-file'], envPassphrase: process.env.MARGO_BACKUP_PASSPHRASE})
  if (given) return given
  if (!process.stdin.isTTY) throw new UsageError('no passphrase: give --passphrase-file FILE, --key-file FILE or MARGO_BACKUP_PASSPHRASE (standard input is not a terminal to ask on)')
  const passphrase = await askHidden('Backup passphrase: ')
  if (confirm && await askHidden('Again: ') !== passphrase) throw new UsageError('the two passphrases differ')
  if (passphrase === '') throw new UsageError('the passphrase is empty')
  return {kind: 'passphrase', passphrase}
}
