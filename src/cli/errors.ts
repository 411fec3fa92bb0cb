import {MargoError, ValidationError} from '../util/errors.ts'

/** oclif's own errors carry their exit code here (2 for parse errors). */
interface OclifError {
  oclif?: {exit?: number}
  code?: string
}

/** The exit code for any error a command can end with (see the CLI conventions). */
export function exitCodeFor(err: unknown): number {
  if (err instanceof MargoError) return err.exitCode
  const oclif = (err as OclifError | null)?.oclif
  if (oclif && typeof oclif.exit === 'number') return oclif.exit
  return 1
}

/** oclif's exit request (`this.exit(n)`), which is control flow, not a failure to report. */
export function isExitRequest(err: unknown): boolean {
  return (err as OclifError | null)?.code === 'EEXIT'
}

function causeChain(err: unknown): string[] {
  const lines: string[] = []
  const seen = new Set<unknown>()
  let cause = (err as {cause?: unknown} | null)?.cause
  while (cause !== undefined && cause !== null && !seen.has(cause)) {
    seen.add(cause)
    const e = cause as {name?: string; message?: string; code?: string}
    const code = e.code && !(e.message ?? '').includes(e.code) ? ` [${e.code}]` : ''
    lines.push(`  caused by: ${e.name ?? 'Error'}: ${e.message ?? String(cause)}${code}`)
    cause = (cause as {cause?: unknown}).cause
  }
  return lines
}

/**
 * oclif parse messages span lines ("The following error occurred:", the problem, an argument
 * description, "See more help with --help"); folded into one line without the boilerplate.
 */
export function parseErrorSummary(message: string): string {
  const parts = message
    .split('\n')
    .map(l => l.trim())
    .filter(l => l && !/^The following errors? occurred:?$/i.test(l) && !/^See more help with/i.test(l))
  return parts.join(' ').replace(/:\s*$/, '') || 'invalid command line'
}

export interface FormatErrorOptions {
  verbose: boolean
  /** e.g. `device show`, for the help hint after a usage error. */
  command?: string
}

/**
 * The text written to stderr for a failed command: one `error:` line; a validation error adds
 * one indented line per problem; `--verbose` adds the cause chain (and the stack of an
 * unexpected error). Never a stack trace by default.
 */
export function formatError(err: unknown, options: FormatErrorOptions): string {
  const lines: string[] = []
  if (err instanceof MargoError) {
    lines.push(`error: ${err.message}`)
    // A message that already names a problem (servers that inline them) must not print it twice.
    if (err instanceof ValidationError) for (const d of err.details) if (!err.message.includes(d.message)) lines.push(`  ${d.path || '(document)'}: ${d.message}`)
  } else if ((err as OclifError | null)?.oclif?.exit === 2) {
    lines.push(`error: ${parseErrorSummary(String((err as Error).message ?? err))} — see: margo ${options.command ? `${options.command} ` : ''}--help`)
  } else {
    const message = err instanceof Error ? err.message : String(err)
    lines.push(`error: ${message.split('\n')[0]}${options.verbose ? '' : ' (run with --verbose for details)'}`)
    if (options.verbose && err instanceof Error && err.stack) lines.push(...err.stack.split('\n').slice(1))
  }
  if (options.verbose) lines.push(...causeChain(err))
  return lines.join('\n')
}
