import {readFileSync} from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {secretValueFrom, setSecret} from '../../src/client/secrets.ts'
import {renderSecretChange} from '../../src/cli/render/secrets.ts'
import {UsageError} from '../../src/util/errors.ts'

export default class SecretSet extends BaseCommand {
  static override summary = 'Create or rotate a secret that parameter values refer to as ${secret:NAME}'
  static override description =
    'The value is read from a file or from standard input, never from the command line (where shell history and process lists would keep it). The server seals it with AES-256-GCM; no command or API shows it again. Rotating a secret re-renders every deployment that refers to it: same deployment, new digest, and the devices update in place.'
  static override examples = [
    'printf %s "$DB_PASSWORD" | <%= config.bin %> secret set db-password --value -',
    '<%= config.bin %> secret set tls-key --from-file ./device.key',
    '<%= config.bin %> deploy com-example-app --selector site=plant-7 --set dbPassword=\'${secret:db-password}\'',
  ]
  static override args = {name: Args.string({description: 'secret name: 1 to 63 letters, digits, ".", "_" or "-"', required: true})}
  static override flags = {
    'from-file': Flags.string({summary: 'Read the value from this file (as it is, UTF-8).', exclusive: ['value']}),
    value: Flags.string({summary: 'Only "-": read the value from standard input (one trailing newline is dropped).', exclusive: ['from-file']}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(SecretSet)
    if (flags.value !== undefined && flags.value !== '-') throw new UsageError('--value takes only "-" (standard input): a value on the command line stays in shell history and process lists — pipe it in, or use --from-file')
    if (flags.value === undefined && flags['from-file'] === undefined) throw new UsageError('give the value with --value - (standard input) or --from-file FILE')
    let value: string
    try {
      value = flags['from-file'] !== undefined
        ? secretValueFrom({file: readFileSync(flags['from-file'])})
        : secretValueFrom({stdin: new Uint8Array(await new Response(Bun.stdin.stream()).arrayBuffer())})
    } catch (err) {
      throw new UsageError(`cannot read the secret: ${err instanceof Error ? err.message : String(err)}`)
    }
    if (value === '') throw new UsageError('the secret is empty')
    this.emit(flags, await setSecret(this.client(flags), args.name, value), renderSecretChange)
  }
}
