import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {removeRegistry} from '../../src/client/registries.ts'

export default class RegistryRemove extends BaseCommand {
  static override summary = 'Remove a registry; the versions it added stay in the catalog'
  static override description = 'Stops syncing the registry and forgets its credentials. Application versions it added remain published, so deployments that use them are not affected.'
  static override examples = ['<%= config.bin %> registry remove apps', '<%= config.bin %> registry remove apps --json']
  static override args = {name: Args.string({description: 'registry name', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(RegistryRemove)
    const removed = await removeRegistry(this.client(flags), args.name)
    this.emit(flags, removed, (r, ctx) => (ctx.tty ? `removed registry ${r.name}` : r.name))
  }
}
