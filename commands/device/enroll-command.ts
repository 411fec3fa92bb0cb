import {Flags} from '@oclif/core'
import pjson from '../../package.json' with {type: 'json'}
import {CONTAINER_STATE_DIR} from '../../src/client/container-run-line.ts'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderEnrollNotice} from '../../src/cli/render/enrollment.ts'
import {enrollCommand, type EnrollCommand} from '../../src/client/enroll.ts'

export default class DeviceEnrollCommand extends BaseCommand {
  static override summary = 'Print the one line that installs the agent on a device and vouches for it'
  static override description = `Paste the line on a Linux device (x86-64 or arm64, glibc or musl) as root. It checks that the fleet manager's CA has the SHA-256 fingerprint written into the line, and only then, over TLS verified with that CA: downloads the install script and the margo build for the device, checks the build against SHA256SUMS, installs /usr/local/bin/margo, writes /etc/margo/agent.yaml (mode 0600), installs the systemd unit and starts the agent. Running it again on the same device is safe.

The line carries a join token made for it: it admits one device (--uses), for 24 hours (--expires), with --labels. The agent presents it once, before it onboards, so the device is active at once with those labels, even under --enrollment approve; a second device installed with the same line is refused the token and waits for approval. The line is therefore a secret until it is used. --join-token puts a token you made (margo device join-token create) in the line instead; --no-join-token puts none, and every device installed with the line waits for margo device approve.

--container prints the docker run line of the agent's container image (scripts/build-agent-image.sh) instead, for devices that run everything as containers: the agent downloads the fleet manager's CA and trusts it only if it has the fingerprint in the line, and reads the join token from MARGO_JOIN_TOKEN; its state dir is bind-mounted from the device at the same path; it reaches the device's engine through /var/run/docker.sock and the network as the device does, and restarts unless stopped. The workloads it deploys run on the device's engine and keep running when the agent's container is restarted or replaced.

For the host install the server must run with --release-dir (see bun run release).`
  static override examples = [
    '<%= config.bin %> device enroll-command --labels site=plant-7,line=2',
    '<%= config.bin %> device enroll-command --labels site=plant-7 --uses 20 --expires 2h --device-url https://wfm.example.com:8443',
    '<%= config.bin %> device enroll-command --no-join-token',
    '<%= config.bin %> device enroll-command --container --labels site=plant-7 --image registry.example.com/margo-agent:0.1.0',
  ]
  static override flags = {
    labels: Flags.string({description: 'Labels the device gets with the join token: key=value, comma-separated or repeated', multiple: true, default: []}),
    uses: Flags.integer({description: 'How many devices the line admits (default 1)', min: 1}),
    expires: Flags.string({description: 'How long the line admits devices, e.g. 2h, 7d (default 24h)'}),
    'join-token': Flags.string({description: 'Put this join token (from margo device join-token create) in the line instead of making one', exclusive: ['no-join-token']}),
    'no-join-token': Flags.boolean({description: 'Put no join token in the line: devices installed with it wait for margo device approve'}),
    'device-url': Flags.string({description: 'URL devices reach the fleet manager at (default: the device API URL the server reports)'}),
    container: Flags.boolean({description: 'Print the docker run line of the agent container image instead'}),
    image: Flags.string({description: `With --container: the agent image (default margo-agent:${pjson.version})`}),
    'state-dir': Flags.string({description: `With --container: directory on the device for the agent's state (default ${CONTAINER_STATE_DIR})`}),
    kubeconfig: Flags.string({description: 'With --container: a kubeconfig on the device, mounted for the helm.v3 profile'}),
    name: Flags.string({description: 'With --container: name of the agent container (default margo-agent)'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(DeviceEnrollCommand)
    const result = await enrollCommand(this.client(flags), {
      labels: flags.labels, deviceUrl: flags['device-url'], uses: flags.uses, expires: flags.expires,
      joinToken: flags['join-token'], noJoinToken: flags['no-join-token'],
      ...(flags.container ? {container: {
        image: flags.image ?? `margo-agent:${pjson.version}`,
        ...(flags['state-dir'] ? {stateDir: flags['state-dir']} : {}), ...(flags.kubeconfig ? {kubeconfig: flags.kubeconfig} : {}), ...(flags.name ? {name: flags.name} : {}),
      }} : {}),
    })
    if (!flags.json) process.stderr.write(renderEnrollNotice(result))
    this.emit(flags, result, (r: EnrollCommand) => r.line)
  }
}
