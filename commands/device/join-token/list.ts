import {BaseCommand} from '../../../src/cli/base-command.ts'
import {renderJoinTokenList} from '../../../src/cli/render/enrollment.ts'
import {listJoinTokens} from '../../../src/client/enrollment.ts'

export default class JoinTokenList extends BaseCommand {
  static override summary = 'List join tokens with their labels, uses and state (never their secrets)'
  static override description = 'Shows every join token, including expired, used-up and revoked ones.'
  static override examples = ['<%= config.bin %> device join-token list', '<%= config.bin %> device join-token list --json']

  async run(): Promise<void> {
    const {flags} = await this.parse(JoinTokenList)
    this.emit(flags, await listJoinTokens(this.client(flags)), renderJoinTokenList)
  }
}
