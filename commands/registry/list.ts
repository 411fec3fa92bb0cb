import {BaseCommand} from '../../src/cli/base-command.ts'
import {listRegistries} from '../../src/client/registries.ts'
import {renderRegistryList} from '../../src/catalog-tools/render.ts'

export default class RegistryList extends BaseCommand {
  static override summary = 'List the registries that fill the application catalog'
  static override description = 'Shows each registry with its kind, URL, sync interval, whether it has credentials (never the credentials themselves) and the outcome of its last sync.'
  static override examples = ['<%= config.bin %> registry list', '<%= config.bin %> registry list --json']

  async run(): Promise<void> {
    const {flags} = await this.parse(RegistryList)
    this.emit(flags, await listRegistries(this.client(flags)), renderRegistryList)
  }
}
