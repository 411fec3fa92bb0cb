import {Command} from '@oclif/core'
import {exitCodeFor, formatError, isExitRequest} from '../cli/errors.ts'
import {outputFlags} from '../cli/flags.ts'
import {type OutputContext, jsonDocument, outputContext} from '../cli/output.ts'

/**
 * Commands that work without a margo server (package lint and push): the output flags and
 * error reporting of the operator commands, without --server/--token, whose names the registry
 * flags of `app push` need for themselves.
 */
export abstract class LocalCommand extends Command {
  static override baseFlags = {...outputFlags}

  protected emit<T>(flags: {json: boolean}, data: T, render: (data: T, ctx: OutputContext) => string): void {
    if (flags.json) {
      process.stdout.write(jsonDocument(data))
      return
    }
    const text = render(data, outputContext({isTTY: process.stdout.isTTY, env: process.env}))
    if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  override async catch(err: Error & {exitCode?: number}): Promise<never> {
    if (isExitRequest(err)) throw err
    const verbose = this.argv.includes('--verbose')
    const command = this.id?.replaceAll(':', ' ')
    process.stderr.write(`${formatError(err, {verbose, ...(command ? {command} : {})})}\n`)
    this.exit(exitCodeFor(err))
  }
}
