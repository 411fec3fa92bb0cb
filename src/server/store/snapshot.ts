import {Database} from 'bun:sqlite'
import type {SqlDatabase} from './engine.ts'

/**
 * A consistent copy of a database that may be in use, by any number of serve processes:
 * `VACUUM INTO` reads one snapshot inside a read transaction (WAL readers never block writers,
 * nor writers them) and writes a compact, self-contained file with no -wal beside it. A plain
 * file copy of a live WAL database could pair a main file and a log from different moments.
 * `target` must not exist.
 */
export function snapshotDatabase(source: string, target: string): void {
  const db = new Database(source, {readwrite: true, create: false})
  try {
    db.exec('PRAGMA busy_timeout = 5000')
    db.query('VACUUM INTO ?').run(target)
  } finally {
    db.close()
  }
}

/** What `PRAGMA integrity_check` found wrong with a database file: empty when it is sound. */
export function integrityProblems(path: string): string[] {
  const db = new Database(path, {readonly: true})
  try {
    const rows = db.query('PRAGMA integrity_check').all() as {integrity_check: string}[]
    const lines = rows.map(r => r.integrity_check)
    return lines.length === 1 && lines[0] === 'ok' ? [] : lines
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)]
  } finally {
    db.close()
  }
}

/** The schema version (migrations applied) of a database file. */
export function schemaVersion(path: string): number {
  const db = new Database(path, {readonly: true})
  try {
    return (db.query('PRAGMA user_version').get() as {user_version: number}).user_version
  } finally {
    db.close()
  }
}

/** How many devices (tombstones aside) and live deployments a database holds, for a summary line. */
export function fleetSize(db: SqlDatabase): {devices: number, deployments: number} {
  const devices = (db.query('SELECT count(*) AS n FROM clients WHERE tombstone IS NULL').get() as {n: number}).n
  const deployments = (db.query("SELECT count(*) AS n FROM deployments WHERE desired = 'present'").get() as {n: number}).n
  return {devices, deployments}
}
