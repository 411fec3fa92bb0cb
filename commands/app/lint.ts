import {Args} from '@oclif/core'
import {LocalCommand} from '../../src/cli/local-command.ts'

export default class AppLint extends LocalCommand {
  static override summary = 'Check an application package, margo.yaml or package .tar.gz without publishing it'
  static override description =
    'Reads the package with the same checks the catalog applies on publish and lists every problem with its path (for example metadata.id or deploymentProfiles[0].type), then every warning. Runs locally; no server is needed. Exits 1 when the package is invalid.'
  static override examples = [
    '<%= config.bin %> app lint ./hello-world',
    '<%= config.bin %> app lint ./hello-world/margo.yaml',
    '<%= config.bin %> app lint hello-world-1.0.tar.gz --json',
  ]
  static override args = {path: Args.string({description: 'package directory, margo.yaml or package .tar.gz', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(AppLint)
    const {lintPath} = await import('../../src/catalog-tools/lint.ts')
    const {renderLintReport} = await import('../../src/catalog-tools/render.ts')
    const report = await lintPath(args.path)
    this.emit(flags, report, renderLintReport)
    if (!report.valid) this.exit(1)
  }
}
