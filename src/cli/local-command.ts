import {outputFlags} from './flags.ts'
import {MargoCommand} from './margo-command.ts'

/**
 * Commands that work without a margo server (package lint and push): the output flags of the
 * operator commands without --server/--token, whose names the registry flags of `app push`
 * need for themselves.
 */
export abstract class LocalCommand extends MargoCommand {
  static override baseFlags = {...outputFlags}
}
