import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderApp} from '../../src/cli/render/apps.ts'

export default class AppShow extends BaseCommand {
  static override summary = 'Show an application: versions, profiles and the parameters you can set'
  static override description =
    'Shows one catalog entry and the ApplicationDescription of its latest version (or of --version): deployment profiles with their components, and the parameters with defaults, data types and whether they are immutable once installed.'
  static override examples = [
    '<%= config.bin %> app show com-northstartida-hello-world',
    '<%= config.bin %> app show com-northstartida-hello-world --version 1.0 --json',
  ]
  static override args = {appId: Args.string({description: 'Application id (see: margo app list)', required: true})}
  static override flags = {version: Flags.string({summary: 'Version to show instead of the latest.'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(AppShow)
    const app = await this.client(flags).getApp(args.appId, flags.version)
    this.emit(flags, app, renderApp)
  }
}
