/** When the precomputed root help (src/cli/root-help.ts) is oclif's output, and how it names the running binary. */
import type {RootHelp} from './root-help.macro.ts'

/**
 * What changes how oclif prints the root help into a pipe: its width, forced colour (ansis and
 * supports-color), and the environments ansis treats as a terminal.
 */
export const RENDERING_ENV = ['OCLIF_COLUMNS', 'FORCE_COLOR', 'NEXT_RUNTIME', 'pm_id']

/** True when `argv` asks for the root help and the precomputed text is what oclif would print. */
export const servesRootHelp = (argv: readonly string[], env: Record<string, string | undefined>, stdoutIsTTY: boolean) =>
  argv.length === 1 && argv[0] === '--help' && !stdoutIsTTY && RENDERING_ENV.every(name => env[name] === undefined)

/** The help as built, naming the running binary's platform and runtime. */
export const fillRootHelp = (help: RootHelp, runningUserAgent: string) => help.text.replace(help.userAgent, runningUserAgent)
