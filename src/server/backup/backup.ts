import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {dataDirFiles} from '../../config/paths.ts'
import {OperationError} from '../../util/errors.ts'
import {writeFileAtomic} from '../../util/fs.ts'
import {Database} from 'bun:sqlite'
import {fleetSize, schemaVersion, snapshotDatabase} from '../store/snapshot.ts'
import {type BackupKey, type SCRYPT, sealBackup} from './archive.ts'
import {BACKUP_FILES, type BackupContents, DATABASE_FILE, packContents} from './contents.ts'

export interface BackupOptions {
  dataDir: string
  /** The backup file to write (mode 0600, atomically). */
  file: string
  key: BackupKey
  /** The key that seals secrets, when the server runs with --secret-key-file outside the data dir. */
  secretKeyFile?: string
  margoVersion: string
  now?: () => Date
  /** Lowered by tests only. */
  scrypt?: typeof SCRYPT
}

export interface BackupSummary {
  file: string
  bytes: number
  createdAt: string
  devices: number
  deployments: number
  files: string[]
  seconds: number
}

/**
 * An online backup of a data dir, whether its `margo serve` (one process or several) is running
 * or not: a `VACUUM INTO` snapshot of the database and the key files, encrypted into one file.
 */
export function createBackup(opts: BackupOptions): BackupSummary {
  const t0 = performance.now()
  const files = dataDirFiles(opts.dataDir)
  if (!existsSync(files.database)) throw new OperationError(`no margo database in ${opts.dataDir} (looked for ${files.database}) — is --data-dir right?`, {code: 'not_found'})
  const file = resolve(opts.file)
  // The snapshot is written beside the backup, in a directory only the owner can enter.
  const scratch = mkdtempSync(join(dirname(file), '.margo-backup-'))
  try {
    const snapshot = join(scratch, DATABASE_FILE)
    snapshotDatabase(files.database, snapshot)
    const db = new Database(snapshot, {readonly: true})
    let size: {devices: number, deployments: number}
    try { size = fleetSize(db) } finally { db.close() }
    const createdAt = (opts.now?.() ?? new Date()).toISOString()
    const contents: BackupContents = {
      index: {format: 1, createdAt, margoVersion: opts.margoVersion, schemaVersion: schemaVersion(snapshot), ...size},
      files: [],
    }
    for (const entry of BACKUP_FILES) {
      const source = entry.name === DATABASE_FILE ? snapshot
        : entry.name === dataDirFiles('').secretKey && opts.secretKeyFile ? opts.secretKeyFile
        : join(opts.dataDir, entry.name)
      if (!existsSync(source)) {
        if (entry.required || source === opts.secretKeyFile) throw new OperationError(`cannot back up ${source}: it does not exist`, {code: 'not_found'})
        continue
      }
      contents.files.push({name: entry.name, bytes: new Uint8Array(readFileSync(source))})
    }
    const sealed = sealBackup(packContents(contents), opts.key, opts.scrypt)
    writeFileAtomic(file, sealed, 0o600)
    return {file, bytes: sealed.length, createdAt, ...size, files: contents.files.map(f => f.name), seconds: (performance.now() - t0) / 1000}
  } finally {
    rmSync(scratch, {recursive: true, force: true})
  }
}
