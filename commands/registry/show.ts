import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {getRegistry} from '../../src/client/registries.ts'
import {renderRegistry, renderSyncResult} from '../../src/catalog-tools/render.ts'
import {blocks} from '../../src/cli/output.ts'

export default class RegistryShow extends BaseCommand {
  static override summary = 'Show one registry and the result of its last sync'
  static override description = 'Shows the registry settings and, for its last sync, every package version found with its status (added, unchanged, conflict, invalid) and the problems met.'
  static override examples = ['<%= config.bin %> registry show apps', '<%= config.bin %> registry show apps --json']
  static override args = {name: Args.string({description: 'registry name', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(RegistryShow)
    const registry = await getRegistry(this.client(flags), args.name)
    this.emit(flags, registry, (r, ctx) => blocks([renderRegistry(r, ctx), r.lastSync ? renderSyncResult(r.lastSync, ctx) : ''], ctx))
  }
}
