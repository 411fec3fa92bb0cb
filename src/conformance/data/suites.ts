/**
 * The Margo project's conformance material, read at run time from a checkout of its sandbox
 * repository. margo does not carry these files: whoever runs a third-party suite points
 * `--suites` (or MARGO_CONFORMANCE_DIR) at a checkout laid out as the repository is.
 */
import {readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {UsageError} from '../../util/errors.ts'

export const SUITES_ENV = 'MARGO_CONFORMANCE_DIR'

/** How to get the suites, the end of every "not available" message. */
export const SUITES_HOWTO = `pass --suites DIR or set ${SUITES_ENV} to a checkout of the Margo project's sandbox repository (the folder that holds conformance/, conformance-2/ and conformance-backups/)`

/** Read access to one checkout; paths are relative to its root, as in the repository. */
export interface ConformanceSuites {
  readonly root: string
  text(path: string): string
  json<T>(path: string): T
}

export type SuitesLookup = {ok: true, suites: ConformanceSuites} | {ok: false, reason: string}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

export function suitesAt(root: string): ConformanceSuites {
  const text = (path: string) => {
    try {
      return readFileSync(join(root, path), 'utf8')
    } catch (err) {
      throw new UsageError(`cannot read ${path} in ${root} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): ${SUITES_HOWTO}`, {cause: err})
    }
  }
  return {root, text, json: <T>(path: string) => JSON.parse(text(path)) as T}
}

/**
 * The suites in `dir` when it holds every file in `needs`; otherwise one line saying what is
 * missing for `who` and how to get it. An empty `dir` counts as not given.
 */
export function lookupSuites(dir: string | undefined, who: string, needs: readonly string[]): SuitesLookup {
  if (dir === undefined || dir === '') return {ok: false, reason: `${who} needs the Margo conformance suites, and none were given: ${SUITES_HOWTO}`}
  if (!isDirectory(dir)) return {ok: false, reason: `${who} needs the Margo conformance suites, and ${dir} is not a directory: ${SUITES_HOWTO}`}
  const missing = needs.filter(path => !isFile(join(dir, path)))
  if (missing.length > 0) {
    const more = missing.length > 1 ? ` (and ${missing.length - 1} more file${missing.length === 2 ? '' : 's'})` : ''
    return {ok: false, reason: `${who} needs ${missing[0]}${more}, which ${dir} does not have: ${SUITES_HOWTO}`}
  }
  return {ok: true, suites: suitesAt(dir)}
}

/** Like `lookupSuites`, but a missing suite is a usage error (exit 2). */
export function requireSuites(dir: string | undefined, who: string, needs: readonly string[]): ConformanceSuites {
  const found = lookupSuites(dir, who, needs)
  if (!found.ok) throw new UsageError(found.reason)
  return found.suites
}
