import {Flags} from '@oclif/core'
import {MargoCommand} from '../../src/cli/margo-command.ts'

export default class ConformanceAgent extends MargoCommand {
  static override summary = 'Test a Margo device agent against a mock fleet manager, and judge what it did'
  static override description = `Starts a mock Margo fleet manager (WFM) that serves the device interface the way the Margo device-supplier conformance mock does: the conformance rule set for capabilities and status, the suite's deployment templates and sample compose apps, a CA and server certificate generated for this run, and a second listener whose certificate comes from another CA.

It prints the server URL, the CA file and its fingerprint to give the agent under test, then drives a timeline: assign deployment A, serve a manifest with sha512: digests, assign B, serve a bundle digest mismatch, change A, serve a deployment digest mismatch, serve wrong sizeBytes (which must be accepted), serve a lower manifestVersion, remove A. Finally it judges the agent, check by check: onboarding body, an RFC 9421 signature on every request except the CA download, capabilities body, If-None-Match on polls, status bodies and component names, pending → installing → installed and removing → removed for every deployment, refusal of every bad manifest without any status change, and refusal of the untrusted listener.

The suite's files (rule set, deployment templates, sample apps) are read at run time from --suites DIR (or MARGO_CONFORMANCE_DIR), a checkout of the Margo project's sandbox repository.

With --run-ours, margo's own agent runs in this process against the mock (simulated drivers, 1 s polls), plus a second instance against the untrusted listener. Exit code 0 when every check passes, 1 otherwise.`
  static override examples = [
    {description: 'Check margo\'s own agent', command: '<%= config.bin %> conformance agent --run-ours'},
    {description: 'Wait for another vendor\'s agent, polling every 10 s, and write a JUnit report', command: '<%= config.bin %> conformance agent --poll-interval-hint 10s --junit agent-conformance.xml'},
    {description: 'Serve the device interface at the bare /api/v1 paths, on a fixed port', command: '<%= config.bin %> conformance agent --base-path "" --port 3001'},
  ]
  static override flags = {
    suites: Flags.string({description: "Checkout of the Margo project's sandbox repository holding the conformance suites (conformance/, conformance-2/, conformance-backups/)", env: 'MARGO_CONFORMANCE_DIR'}),
    'run-ours': Flags.boolean({description: 'Run margo\'s own agent (simulated drivers) against the mock instead of waiting for one'}),
    'base-path': Flags.string({description: 'Prefix of the device interface (default /v1alpha2/margo, as in the conformance suites)'}),
    port: Flags.integer({description: 'Port of the mock on 127.0.0.1 (default: a free one)', min: 0, max: 65535}),
    'untrusted-port': Flags.integer({description: 'Port of the listener with the untrusted certificate (default: a free one)', min: 0, max: 65535}),
    'poll-interval-hint': Flags.string({description: 'How often the agent under test polls (e.g. 10s); each step then waits for several polls'}),
    'start-timeout': Flags.string({description: 'How long to wait for the agent to onboard and poll (default 5m; 1m with --run-ours)'}),
    'step-timeout': Flags.string({description: 'How long each later step may take (default 60s; 30s with --run-ours)'}),
    'fixture-polls': Flags.integer({description: 'How many polls each bad manifest is served for (default 2)'}),
    'work-dir': Flags.string({description: 'Directory for the CA file (default: a new temporary directory)'}),
    junit: Flags.string({description: 'Also write the verdict as JUnit XML to this file'}),
    json: Flags.boolean({description: 'Print the verdict as one JSON document on stdout'}),
    verbose: Flags.boolean({description: 'Show the log of agents started with --run-ours, and the cause chain of errors'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(ConformanceAgent)
    const {conformanceAgentCommand} = await import('../../src/conformance/agent/command.ts')
    const controller = new AbortController()
    const stop = () => controller.abort()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    try {
      const code = await conformanceAgentCommand(flags, {
        stdout: text => process.stdout.write(text),
        stderr: text => process.stderr.write(text),
        isTTY: process.stdout.isTTY === true,
        env: process.env,
        signal: controller.signal,
      })
      if (code !== 0) this.exit(code)
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }

}
