import {chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {OperationError, UsageError} from '../../util/errors.ts'
import {writeFileAtomic} from '../../util/fs.ts'
import {raiseVersionFloor} from '../desired-state/publish.ts'
import {restoreFloor} from '../desired-state/version-floor.ts'
import {MIGRATIONS} from '../store/schema.ts'
import {integrityProblems} from '../store/snapshot.ts'
import {Store} from '../store/store.ts'
import {type BackupKey, openBackup} from './archive.ts'
import {BACKUP_FILES, DATABASE_FILE, unpackContents} from './contents.ts'

export interface RestoreOptions {
  file: string
  dataDir: string
  key: BackupKey
  now?: () => Date
}

export interface RestoreSummary {
  dataDir: string
  backupCreatedAt: string
  devices: number
  deployments: number
  files: string[]
  /** Clients whose manifest was issued again above the floor. */
  reannounced: number
  manifestVersionFloor: number
  migrationNotes: string[]
  seconds: number
}

/** A restore goes into a directory that does not exist or is empty, never over a fleet. */
function refuseNonEmpty(dataDir: string) {
  if (!existsSync(dataDir)) return
  let entries: string[]
  try {
    entries = readdirSync(dataDir)
  } catch {
    throw new UsageError(`cannot restore into ${dataDir}: it is not a directory`)
  }
  if (entries.length > 0) throw new UsageError(`refusing to restore into ${dataDir}: it is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}) — restore into a new or empty directory`)
}

/**
 * Restores a backup into an empty data dir: decrypt (the GCM tag proves the file whole), check
 * the database (`PRAGMA integrity_check`), bring its schema up to this margo, then raise every
 * client's manifest version floor to the restore time and re-announce each manifest above it
 * (src/server/desired-state/version-floor.ts). Everything is assembled in a sibling directory
 * and renamed into place at the end, so a failed restore leaves the target as it was.
 */
export function restoreBackup(opts: RestoreOptions): RestoreSummary {
  const t0 = performance.now()
  const dataDir = resolve(opts.dataDir)
  refuseNonEmpty(dataDir)
  const contents = unpackContents(openBackup(new Uint8Array(readFileSync(opts.file)), opts.key))
  const now = opts.now?.() ?? new Date()
  if (Date.parse(contents.index.createdAt) > now.getTime()) {
    throw new OperationError(`this machine's clock (${now.toISOString()}) is behind the backup's creation time (${contents.index.createdAt}): set the clock right (NTP) before restoring — manifest versions after a restore are based on it`, {code: 'clock_behind'})
  }
  if (contents.index.schemaVersion > MIGRATIONS.length) {
    throw new OperationError(`this backup was written by a newer margo (${contents.index.margoVersion}, schema ${contents.index.schemaVersion}; this one knows ${MIGRATIONS.length}): restore it with that version or later`, {code: 'newer_backup'})
  }
  mkdirSync(dirname(dataDir), {recursive: true})
  const staging = mkdtempSync(join(dirname(dataDir), `.${basename(dataDir)}.restore-`))
  try {
    for (const f of contents.files) {
      const secret = BACKUP_FILES.find(b => b.name === f.name)?.secret ?? true
      mkdirSync(dirname(join(staging, f.name)), {recursive: true, mode: 0o700})
      writeFileAtomic(join(staging, f.name), f.bytes, secret ? 0o600 : 0o644)
    }
    const database = join(staging, DATABASE_FILE)
    const problems = integrityProblems(database)
    if (problems.length > 0) throw new OperationError(`the backup's database fails its integrity check: ${problems.slice(0, 3).join('; ')}`, {code: 'bad_backup'})
    const store = new Store(database)
    let reannounced: number
    let floor: number
    try {
      floor = restoreFloor(now.getTime())
      reannounced = raiseVersionFloor(store, floor, now.toISOString()).clients
    } finally {
      store.close()
    }
    chmodSync(staging, 0o700)
    if (existsSync(dataDir)) rmdirSync(dataDir)
    renameSync(staging, dataDir)
    return {
      dataDir, backupCreatedAt: contents.index.createdAt, devices: contents.index.devices, deployments: contents.index.deployments,
      files: contents.files.map(f => f.name), reannounced, manifestVersionFloor: floor, migrationNotes: store.migrationNotes,
      seconds: (performance.now() - t0) / 1000,
    }
  } catch (err) {
    rmSync(staging, {recursive: true, force: true})
    throw err
  }
}
