import {Flags} from '@oclif/core'
import pjson from '../../package.json' with {type: 'json'}
import {CONTAINER_STATE_DIR, containerRunLine} from '../../src/agent/container/run-line.ts'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {enrollCommand, type EnrollCommand} from '../../src/client/enroll.ts'

export default class DeviceEnrollCommand extends BaseCommand {
  static override summary = 'Print the one line that installs the agent on a device'
  static override description = `Paste the line on a Linux device (x86-64 or arm64, glibc or musl) as root. It checks that the fleet manager's CA has the SHA-256 fingerprint written into the line, and only then, over TLS verified with that CA: downloads the install script and the margo build for the device, checks the build against SHA256SUMS, installs /usr/local/bin/margo, writes /etc/margo/agent.yaml, installs the systemd unit and starts the agent. Running it again is safe.

--container prints the docker run line of the agent's container image (scripts/build-agent-image.sh) instead, for devices that run everything as containers: the agent downloads the fleet manager's CA and trusts it only if it has the fingerprint in the line; its state dir is bind-mounted from the device at the same path; it reaches the device's engine through /var/run/docker.sock and the network as the device does, and restarts unless stopped. The workloads it deploys run on the device's engine and keep running when the agent's container is restarted or replaced.

--labels are carried by an enrollment ticket the fleet manager signs; the agent presents it once it has onboarded, and the device gets the labels (under --enrollment approve it waits for approval with them). The ticket may be used by several devices until it expires (--ttl). For the host install the server must run with --release-dir (see bun run release).`
  static override examples = [
    '<%= config.bin %> device enroll-command --labels site=plant-7,line=2',
    '<%= config.bin %> device enroll-command --labels site=plant-7 --device-url https://wfm.example.com:8443 --ttl 2h',
    '<%= config.bin %> device enroll-command --container --labels site=plant-7 --image registry.example.com/margo-agent:0.1.0',
  ]
  static override flags = {
    labels: Flags.string({description: 'Labels the device gets when it onboards: key=value, comma-separated or repeated', multiple: true, default: []}),
    'device-url': Flags.string({description: 'URL devices reach the fleet manager at (default: the device API URL the server reports)'}),
    ttl: Flags.string({description: 'How long the line works (e.g. 2h, 7d; default 24h)'}),
    container: Flags.boolean({description: 'Print the docker run line of the agent container image instead'}),
    image: Flags.string({description: `With --container: the agent image (default margo-agent:${pjson.version})`}),
    'state-dir': Flags.string({description: `With --container: directory on the device for the agent's state (default ${CONTAINER_STATE_DIR})`}),
    kubeconfig: Flags.string({description: 'With --container: a kubeconfig on the device, mounted for the helm.v3 profile'}),
    name: Flags.string({description: 'With --container: name of the agent container (default margo-agent)'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(DeviceEnrollCommand)
    const issued = await enrollCommand(this.client(flags), {labels: flags.labels, deviceUrl: flags['device-url'], ttl: flags.ttl})
    const result: EnrollCommand = flags.container
      ? {
        ...issued,
        line: containerRunLine({
          server: issued.deviceUrl, caFingerprint: issued.caFingerprint, ticket: issued.ticket, image: flags.image ?? `margo-agent:${pjson.version}`,
          ...(flags['state-dir'] ? {stateDir: flags['state-dir']} : {}), ...(flags.kubeconfig ? {kubeconfig: flags.kubeconfig} : {}), ...(flags.name ? {name: flags.name} : {}),
        }),
      }
      : issued
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
