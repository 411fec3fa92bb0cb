import {join} from 'node:path'

/** The reference material checked out beside the project (`../shared`): the spec and the Margo conformance fixtures, read in place. */
export const SHARED = join(import.meta.dir, '../../shared')
export const CONFORMANCE = join(SHARED, 'conformance')
