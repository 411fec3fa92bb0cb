import {Flags} from '@oclif/core'
import {MargoCommand} from '../src/cli/margo-command.ts'

export default class Simulate extends MargoCommand {
  static override summary = 'Run many simulated devices in one process against a fleet manager'
  static override description = `Rehearse a rollout on a large fleet before touching the real one, or load a fleet manager for tests and benchmarks. Every simulated device is a real Margo client: its own key and self-signed certificate, real onboarding, RFC 9421-signed polls of its desired state and status reports, made by the agent's own sync and status code. Only helm and docker are simulated: an apply takes --apply-time and fails for a --fail-rate share, with the code SIMULATED_FAILURE reported for that device.

Devices cannot set their own labels through the Margo device interface, so --labels are set through the operator API after each device onboards: that needs an operator token (--token, MARGO_TOKEN, or the data dir of a margo serve on this machine, as for other operator commands).

Device state (accepted manifest, deployments, unsent reports) is kept in memory; with --state-dir each device's key, certificate and clientId are kept in <state-dir>/<n>/, so the same devices come back in the next run. First polls are spread over one poll interval. SIGINT or SIGTERM stops cleanly and prints the summary.`
  static override examples = [
    {description: 'A thousand devices in three sites, polling every 30 s', command: '<%= config.bin %> simulate --server https://127.0.0.1:8443 --ca-file ./data/tls/ca.pem --devices 1000 --labels site=plant-{1..3}'},
    {description: 'Applies take 1–5 s, 5% of them fail, 2% of devices are dark at any time', command: '<%= config.bin %> simulate --server https://127.0.0.1:8443 --ca-file ca.pem --devices 200 --apply-time 1s..5s --fail-rate 0.05 --offline-rate 0.02'},
    {description: 'Keep the same identities across runs, stop after ten minutes with a JSON summary', command: '<%= config.bin %> simulate --server https://127.0.0.1:8443 --ca-file ca.pem --devices 500 --state-dir ./sim --duration 10m --json'},
  ]
  static override flags = {
    server: Flags.string({summary: "The fleet manager's device URL (as given to margo agent --server).", required: true}),
    'ca-file': Flags.string({summary: "PEM of the CA that signs the fleet manager's certificate (tls/ca.pem in its data dir).", required: true}),
    devices: Flags.integer({summary: 'How many devices to simulate.', required: true, min: 1}),
    'poll-interval': Flags.string({summary: 'How often each device polls its desired state (30s, 5m, PT1M).', default: '30s'}),
    'apply-time': Flags.string({summary: 'How long an apply takes: a duration (2s) or a range drawn uniformly (1s..5s).', default: '0s'}),
    'fail-rate': Flags.string({summary: 'Share of applies that fail (0..1, or 5%); every retry draws again.', default: '0'}),
    'offline-rate': Flags.string({summary: 'Share of devices dark at any moment (0..1): they stop polling and reporting for --offline-time, then come back.', default: '0'}),
    'offline-time': Flags.string({summary: 'How long a device stays dark: a duration or a range.', default: '1m..5m'}),
    labels: Flags.string({summary: 'Labels set through the operator API after onboarding: k=v for every device, k=v-{1..5} or k={a,b} spread round-robin; repeatable.', multiple: true, default: []}),
    'state-dir': Flags.string({summary: 'Keep each device\'s key, certificate and clientId in <state-dir>/<n>/ across runs.'}),
    'key-type': Flags.string({summary: 'Key type of new device identities.', options: ['p256', 'p384', 'rsa2048'], default: 'p256'}),
    duration: Flags.string({summary: 'Stop after this long (otherwise on SIGINT/SIGTERM).'}),
    seed: Flags.integer({summary: 'Seed for apply times, failures, outages and jitter, to repeat a rehearsal.'}),
    concurrency: Flags.integer({summary: 'Device cycles in flight at once, at most.', default: 256, min: 1}),
    token: Flags.string({summary: 'Operator bearer token, for --labels. Env: MARGO_TOKEN.'}),
    'data-dir': Flags.string({summary: 'Data dir of a margo serve on this machine, for the operator token --labels needs.'}),
    json: Flags.boolean({summary: 'Print the final summary as one JSON document (progress goes to stderr).'}),
    'log-level': Flags.string({summary: 'Log of the simulated agents on stderr.', options: ['debug', 'info', 'warn', 'error'], default: 'error'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Simulate)
    const {simulateMain} = await import('../src/simulate/index.ts')
    await simulateMain({
      server: flags.server, caFile: flags['ca-file'], devices: flags.devices, pollInterval: flags['poll-interval'], applyTime: flags['apply-time'],
      failRate: flags['fail-rate'], offlineRate: flags['offline-rate'], offlineTime: flags['offline-time'], labels: flags.labels,
      stateDir: flags['state-dir'], keyType: flags['key-type'], duration: flags.duration, seed: flags.seed, concurrency: flags.concurrency,
      token: flags.token, dataDir: flags['data-dir'], json: flags.json, logLevel: flags['log-level'],
    }, {stdout: process.stdout, stderr: process.stderr, userAgent: this.config.userAgent})
  }
}
