import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {createToken} from '../../src/client/access.ts'
import {renderCreatedToken} from '../../src/cli/render/access.ts'
import {ROLES, type Role} from '../../src/operator-contract/views.ts'

export default class TokenCreate extends BaseCommand {
  static override summary = 'Create an operator token with a role, optionally confined to a label selector'
  static override description =
    'Prints the token once: the server keeps only its SHA-256. Roles: viewer reads, operator also deploys, undeploys, labels and controls rollouts, admin may do everything (tokens, registries, enrollment, deny-list), auditor reads the audit log. With --scope, the token sees and changes only devices matching the selector, and its rollouts must stay inside it.'
  static override examples = [
    '<%= config.bin %> token create contractor --role operator --scope site=plant-7 --expires 30d',
    '<%= config.bin %> token create siem --role auditor --json',
  ]
  static override args = {name: Args.string({description: 'token name: lowercase letters, digits, ".", "_" or "-"', required: true})}
  static override flags = {
    role: Flags.string({summary: 'What the token may do.', options: [...ROLES], required: true}),
    scope: Flags.string({summary: 'Label selector the token is confined to, e.g. "site=plant-7".'}),
    expires: Flags.string({summary: 'Lifetime such as 12h, 30d, 2w or 1y; never expires when absent.'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(TokenCreate)
    const created = await createToken(this.client(flags), {
      name: args.name, role: flags.role as Role, ...(flags.scope !== undefined ? {scope: flags.scope} : {}), ...(flags.expires ? {expires: flags.expires} : {}),
    })
    this.emit(flags, created, renderCreatedToken)
  }
}
