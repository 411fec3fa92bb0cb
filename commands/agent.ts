import {Flags} from '@oclif/core'
import {MargoCommand} from '../src/cli/margo-command.ts'
import {runAgentCommand} from './_agent-fast-path.ts'

export default class Agent extends MargoCommand {
  static override summary = 'Run the device agent: onboard, sync desired state, apply workloads, report status'
  static override description = `The Margo device management client. On first start it creates the device key and a self-signed X.509 certificate in the state directory, establishes trust in the WFM's root CA, onboards, and reports capabilities. It then polls the desired state, verifies every digest, applies deployments with helm (helm.v3) or docker compose (compose), and reports status through the six lifecycle states.

Settings come from flags, then MARGO_* environment variables, then the YAML config file (see --print-config), then defaults. Polling periods and downtime windows are set in the config file.`
  static override examples = [
    {description: 'Trust the WFM CA by its fingerprint (shown by the server operator)', command: '<%= config.bin %> agent --server https://wfm.example.com --ca-fingerprint sha256:3f0c…'},
    {description: 'Lab use: trust the CA on first use', command: '<%= config.bin %> agent --server https://127.0.0.1:8443 --insecure-tofu --poll-interval 10s'},
    {description: 'Rehearse a rollout: everything is real except helm and docker, which are never run', command: '<%= config.bin %> agent --server https://wfm.example.com --ca-file wfm-ca.pem --simulate-drivers'},
    {description: 'Join with a token an operator created (margo device join-token create): active at once, no approval step', command: 'MARGO_JOIN_TOKEN=margo-join_… <%= config.bin %> agent --server https://wfm.example.com --ca-fingerprint sha256:3f0c…'},
    {description: 'Let a local Prometheus scrape the agent (sync cycles, apply durations, outbox depth)', command: '<%= config.bin %> agent --server https://wfm.example.com --ca-file wfm-ca.pem --metrics-listen 127.0.0.1:9464'},
    {description: 'Show the effective configuration and where each value comes from', command: '<%= config.bin %> agent --server https://wfm.example.com --print-config'},
  ]
  static override flags = {
    server: Flags.string({description: 'WFM root URL (may include a prefix such as /v1alpha2/margo)'}),
    'state-dir': Flags.string({description: 'Where the key, certificate, clientId, adopted manifest and outbox live'}),
    config: Flags.string({description: 'Agent configuration file (YAML)'}),
    'key-type': Flags.string({description: 'Key to generate on first start', options: ['p256', 'p384', 'rsa2048']}),
    key: Flags.string({description: 'Use this private key (PEM) instead of generating one'}),
    cert: Flags.string({description: 'Certificate (PEM) of --key'}),
    'ca-file': Flags.string({description: 'Trust this root CA (PEM) for the WFM'}),
    'ca-fingerprint': Flags.string({description: 'Download the WFM root CA and trust it only if its SHA-256 fingerprint matches'}),
    'insecure-tofu': Flags.boolean({description: 'Trust the downloaded WFM root CA on first use (then remember it)', allowNo: false}),
    'poll-interval': Flags.string({description: 'How often to poll for desired state (e.g. 300, 5m, PT5M)'}),
    'poll-period': Flags.string({description: 'Daily window(s) when polling is allowed, e.g. 06:00-22:00 (comma-separated)'}),
    timezone: Flags.string({description: 'IANA time zone for polling periods and downtime windows'}),
    'workload-dir': Flags.string({description: 'Where drivers keep per-deployment files (values, .env, packages)'}),
    helm: Flags.string({description: 'Path of the helm binary (default: found on PATH)'}),
    docker: Flags.string({description: 'Path of the docker binary (default: found on PATH)'}),
    'log-format': Flags.string({options: ['text', 'json'], description: 'Log format (default: text on a terminal, json otherwise)'}),
    'log-level': Flags.string({options: ['debug', 'info', 'warn', 'error']}),
    'print-config': Flags.boolean({description: 'Print the effective configuration with its sources and exit'}),
    once: Flags.boolean({description: 'Run one cycle (onboard, report, poll, apply, send status) and exit'}),
    'join-token': Flags.string({description: 'Join token (from margo device join-token create) presented once before onboarding, so the device is active at once with the token\'s labels; prefer MARGO_JOIN_TOKEN, which stays out of the process list'}),
    'metrics-listen': Flags.string({description: 'Answer GET /metrics (Prometheus) on this loopback HOST:PORT, e.g. 127.0.0.1:9464; port 0 picks a free one (logged). Off by default'}),
    'simulate-drivers': Flags.boolean({description: 'Never run helm or docker: report every deployment installed (or removed) without touching this host, to rehearse a rollout'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Agent)
    await runAgentCommand(flags)
  }
}
