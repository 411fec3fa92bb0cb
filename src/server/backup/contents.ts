import {gunzipSync, gzipSync} from 'node:zlib'
import {dataDirFiles} from '../../config/paths.ts'
import {OperationError} from '../../util/errors.ts'

/** Paths relative to a data dir, as the server names them. */
const IN_DATA_DIR = dataDirFiles('')

/**
 * What a backup holds of a data dir, by path relative to it: the database snapshot and every
 * file a server needs to be the same server to its devices and operators — the CA (devices pin
 * it), the server key pair, the operator token and the key that seals secrets. Not server.json
 * nor serve.lock: they describe a running process, not the fleet.
 */
export const BACKUP_FILES: readonly {name: string, secret: boolean, required: boolean}[] = [
  {name: IN_DATA_DIR.database, secret: true, required: true},
  {name: IN_DATA_DIR.caCert, secret: false, required: false},
  {name: IN_DATA_DIR.caKey, secret: true, required: false},
  {name: IN_DATA_DIR.serverCert, secret: false, required: false},
  {name: IN_DATA_DIR.serverKey, secret: true, required: false},
  {name: IN_DATA_DIR.operatorToken, secret: true, required: false},
  {name: IN_DATA_DIR.secretKey, secret: true, required: false},
]

/** The database's name in a backup (and in a data dir). */
export const DATABASE_FILE = IN_DATA_DIR.database

type BackupFileName = string

export interface BackupIndex {
  format: 1
  createdAt: string
  /** The margo that wrote it, and the schema version of its database. */
  margoVersion: string
  schemaVersion: number
  /** The engine the fleet ran on; the snapshot is a SQLite database either way. Absent: sqlite. */
  engine?: 'sqlite' | 'postgres'
  devices: number
  deployments: number
}

export interface BackupContents {
  index: BackupIndex
  files: {name: BackupFileName, bytes: Uint8Array}[]
}

/**
 * The plaintext of a backup: gzip of u32 length | JSON {index, files: [{name, size}]} | the
 * files' bytes one after the other.
 */
export function packContents(contents: BackupContents): Uint8Array {
  const table = {index: contents.index, files: contents.files.map(f => ({name: f.name, size: f.bytes.length}))}
  const json = Buffer.from(JSON.stringify(table))
  const length = Buffer.alloc(4)
  length.writeUInt32BE(json.length)
  return new Uint8Array(gzipSync(Buffer.concat([length, json, ...contents.files.map(f => f.bytes)])))
}

const damaged = (why: string) => new OperationError(`the backup's contents are damaged (${why}): nothing was restored`, {code: 'bad_backup'})

/** Reads what `packContents` wrote; only the names of BACKUP_FILES are accepted, so no path can escape the data dir. */
export function unpackContents(plain: Uint8Array): BackupContents {
  let raw: Buffer
  try {
    raw = gunzipSync(plain)
  } catch {
    throw damaged('not gzip')
  }
  if (raw.length < 4) throw damaged('too short')
  const jsonEnd = 4 + raw.readUInt32BE(0)
  if (jsonEnd > raw.length) throw damaged('table past the end')
  let table: {index: BackupIndex, files: {name: string, size: number}[]}
  try {
    table = JSON.parse(raw.subarray(4, jsonEnd).toString('utf8'))
  } catch {
    throw damaged('unreadable table')
  }
  if (table.index?.format !== 1 || !Array.isArray(table.files)) throw damaged('unknown format')
  const known = new Set<string>(BACKUP_FILES.map(f => f.name))
  const files: BackupContents['files'] = []
  let offset = jsonEnd
  for (const f of table.files) {
    if (!known.has(f.name)) throw damaged(`unexpected entry ${JSON.stringify(f.name)}`)
    if (files.some(seen => seen.name === f.name)) throw damaged(`${f.name} twice`)
    if (!Number.isSafeInteger(f.size) || f.size < 0 || offset + f.size > raw.length) throw damaged(`${f.name} past the end`)
    files.push({name: f.name as BackupFileName, bytes: new Uint8Array(raw.subarray(offset, offset + f.size))})
    offset += f.size
  }
  if (offset !== raw.length) throw damaged('trailing bytes')
  for (const required of BACKUP_FILES.filter(f => f.required)) {
    if (!files.some(f => f.name === required.name)) throw damaged(`no ${required.name}`)
  }
  return {index: table.index, files}
}
