import {Args} from '@oclif/core'
import {publishApp} from '../../src/client/publish.ts'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderPublishResult} from '../../src/cli/render/apps.ts'

export default class AppPublish extends BaseCommand {
  static override summary = 'Publish an application: a margo.yaml, a package .tar.gz or a package directory'
  static override description =
    'Adds an application version to the catalog. A margo.yaml (ApplicationDescription) is uploaded as YAML; a .tar.gz package as is; a package directory is checked and packed locally first, so its problems are listed before anything is uploaded. Publishing the same version with the same content again changes nothing; the same version with other content is refused.'
  static override examples = [
    '<%= config.bin %> app publish ./hello-world/margo.yaml',
    '<%= config.bin %> app publish ./hello-world',
    '<%= config.bin %> app publish hello-world-1.0.tar.gz --json',
  ]
  static override args = {path: Args.string({description: 'margo.yaml, package .tar.gz or package directory', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(AppPublish)
    const result = await publishApp(this.client(flags), args.path)
    this.emit(flags, result, renderPublishResult, r => ({created: r.created, app: r.app}))
  }
}
