import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {dataDirFiles} from '../config/paths.ts'
import {writeSecretFile} from '../util/fs.ts'

/** The operator API's bearer token: created once (mode 0600), then read back on every start. */
export function ensureOperatorToken(dataDir: string): string {
  const file = dataDirFiles(dataDir).operatorToken
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim()
    if (token.length >= 32) return token
  }
  const token = randomBytes(32).toString('base64url')
  writeSecretFile(file, token + '\n')
  return token
}
