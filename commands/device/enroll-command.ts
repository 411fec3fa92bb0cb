import {Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {enrollCommand, type EnrollCommand} from '../../src/client/enroll.ts'

export default class DeviceEnrollCommand extends BaseCommand {
  static override summary = 'Print the one line that installs the agent on a device'
  static override description = `Paste the line on a Linux device (x86-64 or arm64, glibc or musl) as root. It checks that the fleet manager's CA has the SHA-256 fingerprint written into the line, and only then, over TLS verified with that CA: downloads the install script and the margo build for the device, checks the build against SHA256SUMS, installs /usr/local/bin/margo, writes /etc/margo/agent.yaml, installs the systemd unit and starts the agent. Running it again is safe.

--labels are carried by an enrollment ticket the fleet manager signs; the agent presents it once it has onboarded, and the device gets the labels (under --enrollment approve it waits for approval with them). The ticket may be used by several devices until it expires (--ttl). The server must run with --release-dir (see bun run release).`
  static override examples = [
    '<%= config.bin %> device enroll-command --labels site=plant-7,line=2',
    '<%= config.bin %> device enroll-command --labels site=plant-7 --device-url https://wfm.example.com:8443 --ttl 2h',
  ]
  static override flags = {
    labels: Flags.string({description: 'Labels the device gets when it onboards: key=value, comma-separated or repeated', multiple: true, default: []}),
    'device-url': Flags.string({description: 'URL devices reach the fleet manager at (default: the device API URL the server reports)'}),
    ttl: Flags.string({description: 'How long the line works (e.g. 2h, 7d; default 24h)'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(DeviceEnrollCommand)
    const result = await enrollCommand(this.client(flags), {labels: flags.labels, deviceUrl: flags['device-url'], ttl: flags.ttl})
    if (!flags.json) {
      const labels = Object.entries(result.labels).map(([k, v]) => `${k}=${v}`).join(',') || 'none'
      const host = new URL(result.deviceUrl).hostname
      const loopback = host === 'localhost' || host.startsWith('127.') || host === '[::1]'
      process.stderr.write(`Paste on the device as root (labels: ${labels}; valid until ${result.expiresAt}; CA ${result.caFingerprint}):\n`)
      if (loopback) process.stderr.write(`warning: ${result.deviceUrl} is this machine's loopback address; pass --device-url with an address devices can reach\n`)
    }
    this.emit(flags, result, (r: EnrollCommand) => r.line)
  }
}
