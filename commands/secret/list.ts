import {BaseCommand} from '../../src/cli/base-command.ts'
import {listSecrets} from '../../src/client/secrets.ts'
import {renderSecretList} from '../../src/cli/render/secrets.ts'

export default class SecretList extends BaseCommand {
  static override summary = 'List secrets and who refers to them (never their values)'
  static override description = 'Shows each secret with when and by whom it was last set, and the rollouts and deployments whose values refer to it.'
  static override examples = ['<%= config.bin %> secret list', '<%= config.bin %> secret list --json']

  async run(): Promise<void> {
    const {flags} = await this.parse(SecretList)
    this.emit(flags, await listSecrets(this.client(flags)), renderSecretList)
  }
}
