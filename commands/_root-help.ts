/**
 * `margo --help` without loading oclif and the command tree: the text oclif prints into a pipe,
 * rendered when the binary is built. A terminal (whose width oclif wraps to), OCLIF_COLUMNS or
 * forced colour takes oclif's path, so the output is oclif's byte for byte either way.
 */
import {fillRootHelp} from '../src/cli/root-help-serve.ts'
import {userAgent} from './_oclif-config.ts'
import {oclifRootHelp} from './_root-help.macro.ts' with {type: 'macro'}
import type {RootHelp} from './_root-help.macro.ts'

export {servesRootHelp} from '../src/cli/root-help-serve.ts'

// Run by the bundler: what remains in the binary is its value.
const built: RootHelp = oclifRootHelp()

export const rootHelpText = () => fillRootHelp(built, userAgent())
