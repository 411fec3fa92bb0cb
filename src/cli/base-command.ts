import {resolveConnection} from '../client/connection.ts'
import {OperatorClient} from '../client/operator-client.ts'
import {type GlobalFlags, connectionFlags, outputFlags} from './flags.ts'
import {MargoCommand} from './margo-command.ts'

/** Shared shape of every operator command: connection and output flags and a client built from them. */
export abstract class BaseCommand extends MargoCommand {
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
}
