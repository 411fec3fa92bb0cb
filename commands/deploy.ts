import {Args, Flags} from '@oclif/core'
import {deploy} from '../src/client/deploy.ts'
import {BaseCommand} from '../src/cli/base-command.ts'
import {renderDeployResult} from '../src/cli/render/results.ts'

export default class Deploy extends BaseCommand {
  static override summary = 'Deploy an application to a device'
  static override description =
    'Creates a deployment of APP (latest version, or APP@VERSION) on one device. Parameter values come from --values (a YAML mapping) and --set key=value (repeatable, wins over --values); the server checks them against the app\'s parameter schema. --profile picks the deployment profile by type (helm.v3, compose) or id when the app has several.'
  static override examples = [
    '<%= config.bin %> deploy com-northstartida-hello-world --device 3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c',
    '<%= config.bin %> deploy com-northstartida-hello-world@1.0 --device 3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c --profile compose --set greeting=Hi',
    '<%= config.bin %> deploy com-northstartida-hello-world --device 3f0c2a9e-5b1d-4c1e-9a51-0d1e2f3a4b5c --values values.yaml',
  ]
  static override args = {app: Args.string({description: 'Application id, optionally with @version (see: margo app list)', required: true})}
  static override flags = {
    device: Flags.string({char: 'd', summary: 'Client id of the target device (see: margo device list).', required: true}),
    profile: Flags.string({summary: 'Deployment profile: helm.v3, compose or a profile id.'}),
    set: Flags.string({summary: 'Parameter value as key=value; repeatable. Values are sent as strings.', multiple: true}),
    values: Flags.string({summary: 'YAML file mapping parameter names to values.'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Deploy)
    const deployment = await deploy(this.client(flags), {
      app: args.app,
      clientId: flags.device,
      ...(flags.profile ? {profile: flags.profile} : {}),
      ...(flags.set ? {set: flags.set} : {}),
      ...(flags.values ? {valuesFile: flags.values} : {}),
    })
    this.emit(flags, deployment, renderDeployResult)
  }
}
