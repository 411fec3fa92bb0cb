import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {lookupSuites, SUITES_ENV, type ConformanceSuites} from '../src/conformance/data/suites.ts'

/** The reference material checked out beside the project (`../shared`): the spec and the Margo conformance fixtures, read in place. */
export const SHARED = join(import.meta.dir, '../../shared')
export const CONFORMANCE = join(SHARED, 'conformance')

/**
 * Where the tests that run the Margo project's conformance suites find them: MARGO_CONFORMANCE_DIR
 * when set (an empty or unrelated folder then means "absent"), else `../shared/conformance` beside
 * the project when it exists.
 */
export const CONFORMANCE_SUITES_DIR: string | undefined = process.env[SUITES_ENV] ?? (existsSync(CONFORMANCE) ? CONFORMANCE : undefined)

/** The suites when `needs` are all there; otherwise undefined, after saying why the caller's tests are skipped. */
export function conformanceSuites(who: string, needs: readonly string[]): ConformanceSuites | undefined {
  const found = lookupSuites(CONFORMANCE_SUITES_DIR, who, needs)
  if (!found.ok) console.log(`skipped: ${found.reason}`)
  return found.ok ? found.suites : undefined
}

/**
 * The folder of the Margo project's conformance material (its device certificates and keys), for
 * tests that read fixtures from it; undefined when it is absent, after saying which tests are
 * skipped and why.
 */
export function conformanceFixtures(who: string): string | undefined {
  if (CONFORMANCE_SUITES_DIR && existsSync(join(CONFORMANCE_SUITES_DIR, 'conformance'))) return CONFORMANCE_SUITES_DIR
  console.log(`skipped: the tests of ${who} that read the Margo conformance fixtures need them: set ${SUITES_ENV} to a checkout of the Margo project's sandbox repository (the folder that holds conformance/ and conformance-2/)`)
  return undefined
}
