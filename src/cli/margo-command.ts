import {Command} from '@oclif/core'
import {exitCodeFor, formatError, isExitRequest} from './errors.ts'
import {type OutputContext, jsonDocument, outputContext} from './output.ts'

/**
 * What every margo command shares: errors reported as one line on stderr with the exit code
 * scripts rely on (the cause chain with --verbose, never a stack trace by default), and output
 * that adapts to a terminal or a pipe, or is one JSON document with --json.
 */
export abstract class MargoCommand extends Command {
  protected outputContext(): OutputContext {
    return outputContext({isTTY: process.stdout.isTTY, env: process.env})
  }

  /** `--json`: the data as one JSON document; otherwise the rendered text. */
  protected emit<T>(flags: {json: boolean}, data: T, render: (data: T, ctx: OutputContext) => string, json: (data: T) => unknown = d => d): void {
    if (flags.json) {
      process.stdout.write(jsonDocument(json(data)))
      return
    }
    const text = render(data, this.outputContext())
    if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  override async catch(err: Error & {exitCode?: number}): Promise<never> {
    if (isExitRequest(err)) throw err
    // Parsing may be what failed, so read --verbose from the raw arguments.
    const verbose = this.argv.includes('--verbose')
    const command = this.id?.replaceAll(':', ' ')
    process.stderr.write(`${formatError(err, {verbose, ...(command ? {command} : {})})}\n`)
    this.exit(exitCodeFor(err))
  }
}
