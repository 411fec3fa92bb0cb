import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderAppList} from '../../src/cli/render/apps.ts'

export default class AppList extends BaseCommand {
  static override summary = 'List published applications and their versions'
  static override description = 'Shows every application in the catalog with its latest version, all published versions and the deployment profile types (helm.v3, compose) of the latest one.'
  static override examples = ['<%= config.bin %> app list', '<%= config.bin %> app list --json']

  async run(): Promise<void> {
    const {flags} = await this.parse(AppList)
    const apps = await this.client(flags).listApps()
    this.emit(flags, apps, renderAppList)
  }
}
