import {UsageError} from '../util/errors.ts'

/** Why the TUI cannot run on these streams, or undefined when it can (it needs raw keys and a screen). */
export function terminalProblem(stdin: {isTTY?: boolean}, stdout: {isTTY?: boolean}): string | undefined {
  const missing = [stdin.isTTY ? '' : 'stdin', stdout.isTTY ? '' : 'stdout'].filter(Boolean)
  if (missing.length === 0) return undefined
  return `margo tui needs an interactive terminal, but ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not a TTY — run it in a terminal, or use margo status / margo device list in scripts`
}

export function assertTerminal(stdin: {isTTY?: boolean}, stdout: {isTTY?: boolean}): void {
  const problem = terminalProblem(stdin, stdout)
  if (problem) throw new UsageError(problem, {code: 'not_a_terminal'})
}
