/**
 * `margo --help` without loading oclif and the command tree: the text oclif prints into a pipe,
 * rendered when the binary is built. A terminal (whose width oclif wraps to), OCLIF_COLUMNS or
 * forced colour takes oclif's path, so the output is oclif's byte for byte either way.
 */
import {oclifRootHelp} from './root-help.macro.ts' with {type: 'macro'}
import type {RootHelp} from './root-help.macro.ts'
import {userAgent} from './oclif-config.ts'
import {fillRootHelp} from './root-help-serve.ts'

export {servesRootHelp} from './root-help-serve.ts'

// Run by the bundler: what remains in the binary is its value.
const built: RootHelp = oclifRootHelp()

export const rootHelpText = () => fillRootHelp(built, userAgent())
