import {linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {OperationError} from '../util/errors.ts'

/** Another `margo serve` already owns the data directory. */
export class ServerAlreadyRunning extends OperationError {
  constructor(readonly dataDir: string, readonly pid: number, readonly url: string | undefined) {
    super(`another margo serve (pid ${pid}) is already running on ${dataDir}${url ? ` at ${url}` : ', still starting'} — stop it first (kill ${pid}) or use another --data-dir`, {code: 'server_running'})
  }
}

export interface InstanceLock {
  /** Removes the lock if it is still ours. */
  release(): void
}

/** True while a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The margo commands that take the data directory's lock: the server, and `db migrate`. */
const LOCKING_COMMANDS = ['serve', 'migrate']

/**
 * Whether a live pid can still be the process that wrote the lock. After a reboot or a container
 * restart an old pid may belong to an unrelated process; where /proc tells, only a margo command
 * that takes the lock counts.
 */
function mayBeServe(pid: number): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    return LOCKING_COMMANDS.some(c => args.includes(c))
  } catch {
    return true
  }
}

const readPid = (path: string): number | undefined => {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code

/**
 * Claims `lockPath` for this process for as long as it runs: the file holds our pid. A lock whose
 * pid is gone (a server that crashed or was killed) is taken over; a live one is refused with
 * `describe(pid)`, which names where that server can be reached.
 *
 * The lock appears atomically with its content (written aside, then hard-linked into place, which
 * fails when the name exists), so a reader never sees an empty lock. A stale lock is first renamed
 * aside and checked: if a competitor replaced it in the meantime, its fresh lock is put back.
 */
export function acquireInstanceLock(lockPath: string, onHeld: (pid: number) => Error, pid = process.pid): InstanceLock {
  mkdirSync(dirname(lockPath), {recursive: true, mode: 0o700})
  const mine = `${lockPath}.${pid}`
  writeFileSync(mine, `${pid}\n`, {mode: 0o600})
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(mine, lockPath)
        break
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw err
      }
      const holder = readPid(lockPath)
      if (holder !== undefined && holder !== pid && processAlive(holder) && mayBeServe(holder)) throw onHeld(holder)
      if (attempt >= 3) throw new OperationError(`cannot take over ${lockPath} — remove it if no margo serve is running`)
      takeOverStale(lockPath, holder, pid)
    }
  } finally {
    rmSync(mine, {force: true})
  }
  return {
    release() {
      if (readPid(lockPath) === pid) rmSync(lockPath, {force: true})
    },
  }
}

function takeOverStale(lockPath: string, stalePid: number | undefined, pid: number): void {
  const aside = `${lockPath}.stale.${pid}`
  try {
    renameSync(lockPath, aside)
  } catch (err) {
    if (errno(err) === 'ENOENT') return
    throw err
  }
  const moved = readPid(aside)
  if (moved !== stalePid && moved !== undefined && processAlive(moved)) {
    // Someone took the stale lock over between our read and our rename: give theirs back.
    try { linkSync(aside, lockPath) } catch { /* a third one holds it now; the retry will see it */ }
  }
  rmSync(aside, {force: true})
}
