import {BaseCommand} from '../../src/cli/base-command.ts'
import {listTokens} from '../../src/client/access.ts'
import {renderTokenList} from '../../src/cli/render/access.ts'

export default class TokenList extends BaseCommand {
  static override summary = 'List operator tokens with their role, scope and state (never their secrets)'
  static override description = 'Shows every token, including revoked and expired ones, with when it was last used. Secrets are never shown again after creation.'
  static override examples = ['<%= config.bin %> token list', '<%= config.bin %> token list --json']

  async run(): Promise<void> {
    const {flags} = await this.parse(TokenList)
    this.emit(flags, await listTokens(this.client(flags)), renderTokenList)
  }
}
