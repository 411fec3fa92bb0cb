import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {revokeToken} from '../../src/client/access.ts'
import {renderRevokedToken} from '../../src/cli/render/access.ts'

export default class TokenRevoke extends BaseCommand {
  static override summary = 'Revoke an operator token; its next request is refused'
  static override description = 'The token stays listed as revoked (its name cannot be reused) and gets 401 token_revoked from then on, without a server restart.'
  static override examples = ['<%= config.bin %> token revoke contractor']
  static override args = {name: Args.string({description: 'token name (see: margo token list)', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(TokenRevoke)
    this.emit(flags, await revokeToken(this.client(flags), args.name), renderRevokedToken)
  }
}
