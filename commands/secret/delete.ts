import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {deleteSecret} from '../../src/client/secrets.ts'
import {renderSecretDeleted} from '../../src/cli/render/secrets.ts'

export default class SecretDelete extends BaseCommand {
  static override summary = 'Delete a secret no rollout or deployment refers to'
  static override description = 'A secret still referred to is kept: the refusal names the rollouts, so their values can be changed (or the rollouts undeployed) first.'
  static override examples = ['<%= config.bin %> secret delete db-password']
  static override args = {name: Args.string({description: 'secret name', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(SecretDelete)
    this.emit(flags, await deleteSecret(this.client(flags), args.name), renderSecretDeleted)
  }
}
