import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {syncRegistry} from '../../src/client/registries.ts'
import {renderSyncResult, syncFailed} from '../../src/catalog-tools/render.ts'

export default class RegistrySync extends BaseCommand {
  static override summary = 'Sync a registry now and show what it added'
  static override description = 'Reads every package the registry offers and adds new versions to the catalog, as the periodic sync does. Lists each version found as added, unchanged, conflict (the version exists with another description; versions are immutable) or invalid. Exits 1 when a version or the registry had a problem.'
  static override examples = ['<%= config.bin %> registry sync apps', '<%= config.bin %> registry sync apps --json']
  static override args = {name: Args.string({description: 'registry name', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(RegistrySync)
    const result = await syncRegistry(this.client(flags), args.name)
    this.emit(flags, result, renderSyncResult)
    if (syncFailed(result)) this.exit(1)
  }
}
