import {Args, Flags} from '@oclif/core'
import {LocalCommand} from '../../src/cli/local-command.ts'

const REGISTRY = 'REGISTRY'

export default class AppPush extends LocalCommand {
  static override summary = 'Publish an application package to an OCI registry'
  static override description =
    'Checks the package, then uploads it through the OCI Distribution API in the Margo layout: an image manifest with artifactType application/vnd.margo.app.v1+json, the empty config, one layer for the ApplicationDescription and one per referenced resource (icon, descriptionFile, licenseFile, releaseNotes). The tag must equal metadata.version. Registries that answer with a token challenge are handled with the given credentials. A margo serve with this registry added picks the version up at its next sync.'
  static override examples = [
    '<%= config.bin %> app push ./hello-world registry.example.com/margo/hello-world:1.0 --username ci --password "$REGISTRY_PASSWORD"',
    '<%= config.bin %> app push ./hello-world 127.0.0.1:5000/margo/hello-world:1.0 --plain-http',
    '<%= config.bin %> app push hello-world-1.0.tar.gz registry.internal:5000/apps/hello-world:1.0 --ca-file ./registry-ca.pem --json',
  ]
  static override args = {
    path: Args.string({description: 'package directory or package .tar.gz', required: true}),
    reference: Args.string({description: '<registry>/<repository>:<tag>, the tag equal to metadata.version', required: true}),
  }
  static override flags = {
    username: Flags.string({summary: 'Registry user name (basic auth or token service login).', helpGroup: REGISTRY}),
    password: Flags.string({summary: 'Registry password.', env: 'MARGO_REGISTRY_PASSWORD', helpGroup: REGISTRY}),
    token: Flags.string({summary: 'Registry bearer token (instead of a user name and password).', env: 'MARGO_REGISTRY_TOKEN', helpGroup: REGISTRY}),
    'ca-file': Flags.string({summary: "PEM file of the CA that signs the registry's certificate.", helpGroup: REGISTRY}),
    'plain-http': Flags.boolean({summary: 'Use http instead of https; only for a registry on this machine (127.0.0.1, ::1, localhost).', helpGroup: REGISTRY}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(AppPush)
    const {pushFromPath} = await import('../../src/catalog-tools/push.ts')
    const {renderPushResult} = await import('../../src/catalog-tools/render.ts')
    const result = await pushFromPath({
      path: args.path,
      reference: args.reference,
      ...(flags.username !== undefined ? {username: flags.username} : {}),
      ...(flags.password !== undefined ? {password: flags.password} : {}),
      ...(flags.token !== undefined ? {token: flags.token} : {}),
      ...(flags['ca-file'] !== undefined ? {caFile: flags['ca-file']} : {}),
      plainHttp: flags['plain-http'],
    })
    this.emit(flags, result, renderPushResult)
  }
}
