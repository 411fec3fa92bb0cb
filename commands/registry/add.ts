import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {addAndSync, addRegistryRequest} from '../../src/client/registries.ts'
import {renderAddResult} from '../../src/catalog-tools/render.ts'

const REGISTRY = 'REGISTRY'

export default class RegistryAdd extends BaseCommand {
  static override summary = 'Add an OCI registry or git repository that fills the application catalog'
  static override description =
    'The server reads application packages from the registry every --interval seconds and adds new versions to the catalog. OCI: every tag of the listed repositories (all repositories of the registry catalog when none is listed); each tag must equal its metadata.version. git: a shallow clone of --ref; every folder holding an ApplicationDescription YAML is a package. Credentials stay on the server and are never shown again. The registry is synced once right away unless --no-sync is given; if that sync fails the registry stays saved (exit 1), and margo registry sync NAME retries it.'
  static override examples = [
    '<%= config.bin %> registry add apps registry.example.com --repository margo/hello-world --username ci --password "$PASSWORD"',
    '<%= config.bin %> registry add local http://127.0.0.1:5000 --repository margo/hello-world',
    '<%= config.bin %> registry add catalog https://git.example.com/org/margo-apps.git --ref main --interval 600',
  ]
  static override args = {
    name: Args.string({description: 'registry name (lowercase letters, digits, ".", "_", "-")', required: true}),
    url: Args.string({description: 'OCI: https://host[:port] or host[:port]; git: https://…/repo.git, file://… or an absolute path', required: true}),
  }
  static override flags = {
    kind: Flags.string({summary: 'oci or git (default: git for .git, file:// and absolute paths, else oci).', options: ['oci', 'git'], helpGroup: REGISTRY}),
    ref: Flags.string({summary: 'git branch or tag to read (default: the remote HEAD).', helpGroup: REGISTRY}),
    repository: Flags.string({summary: 'OCI repository to read; repeat for several (default: all from the registry catalog).', multiple: true, helpGroup: REGISTRY}),
    username: Flags.string({summary: 'Registry user name.', helpGroup: REGISTRY}),
    password: Flags.string({summary: 'Registry password.', env: 'MARGO_REGISTRY_PASSWORD', helpGroup: REGISTRY}),
    'registry-token': Flags.string({summary: 'Registry bearer token (instead of a user name and password).', env: 'MARGO_REGISTRY_TOKEN', helpGroup: REGISTRY}),
    interval: Flags.integer({summary: 'Seconds between syncs (10 to 604800; default 3600).', helpGroup: REGISTRY}),
    sync: Flags.boolean({summary: 'Sync once right after adding.', default: true, allowNo: true, helpGroup: REGISTRY}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(RegistryAdd)
    const request = addRegistryRequest(args.name, args.url, flags)
    const {failure, ...result} = await addAndSync(this.client(flags), request, flags.sync)
    this.emit(flags, result, renderAddResult)
    if (failure) throw failure
  }
}
