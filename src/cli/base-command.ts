import {Command} from '@oclif/core'
import {resolveConnection} from '../client/connection.ts'
import {OperatorClient} from '../client/operator-client.ts'
import {exitCodeFor, formatError, isExitRequest} from './errors.ts'
import {type GlobalFlags, connectionFlags, outputFlags} from './flags.ts'
import {type OutputContext, jsonDocument, outputContext} from './output.ts'

/**
 * Shared shape of every operator command: connection and output flags, a client built from
 * them, TTY-aware rendering, and errors reported as one line with the mapped exit code.
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {...connectionFlags, ...outputFlags}

  /** A client for the server the flags, environment, login file or local data dir name. */
  protected client(flags: GlobalFlags): OperatorClient {
    const connection = resolveConnection({
      ...(flags.server ? {server: flags.server} : {}),
      ...(flags.token ? {token: flags.token} : {}),
      ...(flags['ca-file'] ? {caFile: flags['ca-file']} : {}),
      ...(flags['data-dir'] ? {dataDir: flags['data-dir']} : {}),
    })
    return new OperatorClient(connection, {userAgent: this.config.userAgent})
  }

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
