import {Args} from '@oclif/core'
import {BaseCommand} from '../src/cli/base-command.ts'
import {renderUndeployResult} from '../src/cli/render/results.ts'

export default class Undeploy extends BaseCommand {
  static override summary = 'Remove a deployment from its device'
  static override description =
    'Marks the deployment absent. The device removes the application at its next sync and reports removing, then removed; follow it with margo status --device.'
  static override examples = ['<%= config.bin %> undeploy a3e2f5dc-8b7e-4c53-9d2b-1f0e3c4d5a6b']
  static override args = {deploymentId: Args.string({description: 'Deployment id (see: margo status)', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Undeploy)
    const deployment = await this.client(flags).deleteDeployment(args.deploymentId)
    this.emit(flags, deployment, renderUndeployResult)
  }
}
