import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {writeSecretFile} from '../../util/fs.ts'
import {newTicketKey} from './ticket.ts'

/** The HMAC key of enrollment tickets: created once (mode 0600), so tickets outlive a restart. */
export function ensureTicketKey(dataDir: string): Uint8Array {
  const file = join(dataDir, 'enrollment.key')
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url')
    if (key.length >= 32) return new Uint8Array(key)
  }
  const key = newTicketKey()
  writeSecretFile(file, Buffer.from(key).toString('base64url') + '\n')
  return key
}
