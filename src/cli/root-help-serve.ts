/** When the precomputed root help (commands/_root-help.ts) is oclif's output, and how it names the running binary. */

/**
 * What changes how oclif prints the root help into a pipe: its width, forced colour (ansis and
 * supports-color), and the environments ansis treats as a terminal.
 */
export const RENDERING_ENV = ['OCLIF_COLUMNS', 'FORCE_COLOR', 'NEXT_RUNTIME', 'pm_id']

/** True when `argv` asks for the root help and the precomputed text is what oclif would print. */
export const servesRootHelp = (argv: readonly string[], env: Record<string, string | undefined>, stdoutIsTTY: boolean) =>
  argv.length === 1 && argv[0] === '--help' && !stdoutIsTTY && RENDERING_ENV.every(name => env[name] === undefined)

/** The help as built, naming the running binary's platform and runtime. */
export const fillRootHelp = (help: {text: string, userAgent: string}, runningUserAgent: string) => help.text.replace(help.userAgent, runningUserAgent)
