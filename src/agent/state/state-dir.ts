/**
 * The agent's state directory. Layout (names relative to the directory):
 *
 *   accepted.json                      the last accepted State Manifest:
 *                                      {manifestVersion, etag, text, acceptedAt}; `text` is the
 *                                      exact body, so the next diff and the rollback check
 *                                      survive restarts (CL-27)
 *   workloads.json                     {format: 1, workloads: {<deploymentId>: WorkloadRecord}}
 *                                      what is installed or being installed/removed, with the
 *                                      intent recorded before acting
 *   artifacts/<deploymentId>/<hex>.yaml
 *                                      the exact ApplicationDeployment bytes of each version
 *                                      applied, kept to remove (or retry) it later; <hex> is the
 *                                      sha256 of the bytes
 *   outbox.json                        {format: 1, seq, entries: [{seq, deploymentId, report}]}
 *                                      the latest unsent status report per deployment
 *   <name>.corrupt-<epoch ms>          an unreadable file moved aside for inspection (a few
 *                                      are kept per name)
 *
 * Every write goes through a temporary sibling, fsync and rename, so a crash leaves the old
 * or the new file and never a torn one; temporaries left by a crash are deleted on open.
 * Identity files (key.pem, cert.pem, ca.pem, identity.json) share the directory but belong
 * to another module and are never touched here.
 */
import {mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync} from 'node:fs'
import {isAbsolute, join, normalize, sep} from 'node:path'
import {writeFileAtomic} from '../../util/fs.ts'

/**
 * What the agent's stores need from where their state lives: names relative to the state
 * root, JSON documents and raw bytes. `StateDir` keeps them on disk; a simulated fleet keeps
 * thousands of devices' state in memory (`MemoryState`) through the same stores.
 */
export interface StateStore {
  readJson<T>(name: string, valid?: (value: unknown) => value is T): T | null
  writeJson(name: string, value: unknown): void
  quarantine(name: string): string | null
  /** The bytes of `name`, or null when it does not exist. */
  readBytes(name: string): Uint8Array | null
  /** Durable before it returns (when the store is durable at all). */
  writeBytes(name: string, bytes: Uint8Array): void
  /** Deletes a file or a whole folder; absent is fine. */
  remove(name: string): void
  /** Names directly inside the folder `name`; empty when it does not exist. */
  list(name: string): string[]
  isFolder(name: string): boolean
}

export const ACCEPTED_FILE = 'accepted.json'
export const WORKLOADS_FILE = 'workloads.json'
export const OUTBOX_FILE = 'outbox.json'
export const ARTIFACTS_DIR = 'artifacts'

/** The names this module owns at the top level; only their leftovers are cleaned. */
const OWNED = [ACCEPTED_FILE, WORKLOADS_FILE, OUTBOX_FILE]
const KEEP_CORRUPT = 3

export class StateDir implements StateStore {
  readonly dir: string

  constructor(dir: string) {
    this.dir = dir
    mkdirSync(dir, {recursive: true, mode: 0o700})
    this.sweepTemporaries()
  }

  /** The absolute path of `name`, which must stay inside the directory. */
  path(name: string): string {
    const clean = normalize(name)
    if (name === '' || isAbsolute(name) || clean === '..' || clean.startsWith(`..${sep}`)) throw new Error(`state file name escapes the state directory: ${name}`)
    return join(this.dir, clean)
  }

  /**
   * The parsed file, or null when it does not exist. A file that is not JSON, or that
   * `valid` refuses, is moved aside and reads as absent: the agent then starts that part of
   * its state afresh rather than failing on every start. Other I/O errors (permissions,
   * a failing disk) are thrown, because moving the file would not help.
   */
  readJson<T>(name: string, valid?: (value: unknown) => value is T): T | null {
    let text: string
    try {
      text = readFileSync(this.path(name), 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw e
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      this.quarantine(name)
      return null
    }
    if (valid && !valid(value)) {
      this.quarantine(name)
      return null
    }
    return value as T
  }

  writeJson(name: string, value: unknown): void {
    writeFileAtomic(this.path(name), `${JSON.stringify(value, null, 2)}\n`)
  }

  readBytes(name: string): Uint8Array | null {
    try {
      return new Uint8Array(readFileSync(this.path(name)))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw e
    }
  }

  writeBytes(name: string, bytes: Uint8Array): void {
    writeFileAtomic(this.path(name), bytes)
  }

  remove(name: string): void {
    rmSync(this.path(name), {recursive: true, force: true})
  }

  list(name: string): string[] {
    return safeList(this.path(name))
  }

  isFolder(name: string): boolean {
    return isDirectory(this.path(name))
  }

  /** Moves a damaged file aside as `<name>.corrupt-<ms>` and keeps only the newest few such copies. */
  quarantine(name: string): string | null {
    const from = this.path(name)
    const to = `${from}.corrupt-${Date.now()}`
    try {
      renameSync(from, to)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw e
    }
    this.pruneQuarantined(name)
    return to
  }

  private pruneQuarantined(name: string): void {
    const path = this.path(name)
    const dir = join(path, '..')
    const base = path.slice(dir.length + 1)
    const prefix = `${base}.corrupt-`
    const copies = safeList(dir).filter(f => f.startsWith(prefix)).sort((a, b) => Number(b.slice(prefix.length)) - Number(a.slice(prefix.length)))
    for (const old of copies.slice(KEEP_CORRUPT)) rmSync(join(dir, old), {force: true})
  }

  /**
   * Temporaries (`<name>.tmp-<pid>-<ms>`) are what a crash between write and rename leaves;
   * they never replaced anything, so deleting them loses nothing. Only this module's files
   * are considered, and never this process's own.
   */
  private sweepTemporaries(): void {
    const isStale = (file: string, owned: (base: string) => boolean) => {
      const m = /^(.*)\.tmp-(\d+)-\d+$/.exec(file)
      return m !== null && owned(m[1]!) && Number(m[2]) !== process.pid
    }
    for (const f of safeList(this.dir)) if (isStale(f, base => OWNED.includes(base))) rmSync(join(this.dir, f), {force: true})
    const artifacts = join(this.dir, ARTIFACTS_DIR)
    for (const sub of safeList(artifacts)) {
      const subdir = join(artifacts, sub)
      if (!isDirectory(subdir)) continue
      for (const f of safeList(subdir)) if (isStale(f, () => true)) rmSync(join(subdir, f), {force: true})
    }
  }
}

export function safeList(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}
