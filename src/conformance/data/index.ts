import {readSuites} from './read-suites.ts' with {type: 'macro'}

export type SuiteData = {available: true, files: Readonly<Record<string, string>>} | {available: false, reason: string}

// Evaluated when the code is bundled (or transpiled by `bun run`): the file contents become
// part of the executable.
const EMBEDDED = readSuites()

/** The Margo conformance material carried by this build. */
export function conformanceData(): SuiteData {
  if (!EMBEDDED) return {available: false, reason: 'this build of margo carries no conformance suites: build it in a checkout that has the Margo conformance material beside it (../shared/conformance) or set MARGO_CONFORMANCE_DIR at build time'}
  return {available: true, files: EMBEDDED.files}
}

/** One file of the suites, by its path relative to the conformance root; throws a clear error when absent. */
export function suiteFile(path: string): string {
  const data = conformanceData()
  if (!data.available) throw new Error(data.reason)
  const text = data.files[path]
  if (text === undefined) throw new Error(`conformance file ${path} is not part of this build`)
  return text
}

export function suiteJson<T>(path: string): T {
  return JSON.parse(suiteFile(path)) as T
}
