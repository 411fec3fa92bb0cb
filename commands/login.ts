import {Flags} from '@oclif/core'
import {login} from '../src/client/login.ts'
import {BaseCommand} from '../src/cli/base-command.ts'
import {renderLoginResult} from '../src/cli/render/results.ts'

export default class Login extends BaseCommand {
  static override summary = 'Save the server URL, token and CA for later commands'
  static override description =
    'Checks that the server answers and accepts the token, then stores server, token and CA file in the operator login file ($XDG_CONFIG_HOME/margo/config.yaml, mode 0600). Later commands use it when no --server, MARGO_SERVER or local server data dir says otherwise. The token is in <data-dir>/operator-token on the server.'
  static override examples = [
    '<%= config.bin %> login --server https://fleet.example:8443 --token "$(cat operator-token)" --ca-file ca.pem',
  ]
  static override flags = {
    server: Flags.string({summary: 'Fleet manager URL (host:port, https://host:port or its /operator/v1 URL).', required: true}),
    token: Flags.string({summary: 'Operator bearer token (from <data-dir>/operator-token on the server). Env: MARGO_TOKEN.', env: 'MARGO_TOKEN', required: true}),
    'ca-file': Flags.string({summary: "PEM file of the CA that signs the server's certificate (tls/ca.pem in the server's data dir)."}),
    offline: Flags.boolean({summary: 'Save without contacting the server.'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Login)
    const result = await login({
      server: flags.server,
      token: flags.token,
      ...(flags['ca-file'] ? {caFile: flags['ca-file']} : {}),
      verify: !flags.offline,
      client: {userAgent: this.config.userAgent},
    })
    this.emit(flags, result, renderLoginResult)
  }
}
