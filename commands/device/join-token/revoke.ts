import {Args} from '@oclif/core'
import {BaseCommand} from '../../../src/cli/base-command.ts'
import {renderRevokedJoinToken} from '../../../src/cli/render/enrollment.ts'
import {revokeJoinToken} from '../../../src/client/enrollment.ts'

export default class JoinTokenRevoke extends BaseCommand {
  static override summary = 'Revoke a join token: it admits no further device'
  static override description = 'Devices the token already admitted stay as they are; revoke those with margo device revoke.'
  static override examples = ['<%= config.bin %> device join-token revoke jt-3f0c2a9e5b']
  static override args = {id: Args.string({description: 'join token id (see: margo device join-token list)', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(JoinTokenRevoke)
    this.emit(flags, await revokeJoinToken(this.client(flags), args.id), renderRevokedJoinToken)
  }
}
