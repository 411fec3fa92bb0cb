import {BaseCommand} from '../src/cli/base-command.ts'
import {assertTerminal} from '../src/tui/terminal.ts'

export default class Tui extends BaseCommand {
  static override summary = 'Interactive dashboard of devices, apps and deployments'
  static override description =
    'A keyboard-driven terminal view of the fleet that updates live: browse devices (with liveness), apps and deployments, open one for its details and timeline, filter with /, deploy an app with d, undeploy with u, and press ? for all keys. It needs an interactive terminal; in scripts use margo status or margo device list --json.'
  static override examples = [
    '<%= config.bin %> tui',
    '<%= config.bin %> tui --server https://fleet.example:8443 --ca-file ca.pem',
    '<%= config.bin %> tui --data-dir /var/lib/margo',
  ]

  async run(): Promise<void> {
    const {flags} = await this.parse(Tui)
    assertTerminal(process.stdin, process.stdout)
    // Ink and its layout engine use top-level await: load them only when the dashboard runs.
    const {runTui} = await import('../src/tui/run.tsx')
    await runTui({client: this.client(flags)})
  }
}
