import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../src/cli/base-command.ts'
import {renderStatusView, statusViewJson, warningReporter, watchMode, watchUpdate} from '../src/cli/render/watch.ts'
import {UsageError} from '../src/util/errors.ts'
import {statusView, watchStatus, type StatusView} from '../src/client/status.ts'

export default class Status extends BaseCommand {
  static override summary = 'Show the fleet, or one deployment, device or app; --watch follows changes live'
  static override description = [
    'Without an argument: devices by liveness (online, stale, offline) and enrollment, deployments by reported state, and the failed deployments and stale or offline devices that need attention.',
    'With a deploymentId, a device clientId or an appId: each matching deployment with its component states, its last error and the timeline of reports.',
    'With --watch the view is kept up to date from the server\'s event stream until Ctrl-C: a terminal is redrawn, piped output gets one line per change, and --json prints one JSON document per line.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status a3e2f5dc-6c0e-4b8e-9a51-0d1e2f3a4b5c',
    '<%= config.bin %> status com-northstartida-hello-world --watch',
    '<%= config.bin %> status --watch --json | jq -c .deployments.byState',
  ]
  static override args = {
    id: Args.string({description: 'A deploymentId, a device clientId (either may be a unique prefix of at least 4 characters) or an appId; the whole fleet when omitted.'}),
  }
  static override flags = {
    watch: Flags.boolean({char: 'w', summary: 'Keep the view up to date until interrupted.'}),
    device: Flags.string({char: 'd', summary: 'A device clientId (the same as giving it as the argument).'}),
    'cert-expiry-within': Flags.string({summary: 'List devices whose certificate expires within this time (e.g. 60d); default: the server\'s --cert-expiry-warning.'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Status)
    if (args.id && flags.device) throw new UsageError('give either an id argument or --device, not both — e.g. margo status <clientId>')
    const id = args.id ?? flags.device
    const client = this.client(flags)
    if (!flags.watch) {
      this.emit(flags, await statusView(client, id, flags['cert-expiry-within'] ? {certExpiryWithin: flags['cert-expiry-within']} : {}), renderStatusView, statusViewJson)
      return
    }

    const stop = new AbortController()
    const onSignal = () => stop.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    const mode = watchMode(flags, this.outputContext())
    let previous: StatusView | undefined
    try {
      await watchStatus(client, {
        ...(id ? {id} : {}),
        signal: stop.signal,
        onView: view => {
          process.stdout.write(watchUpdate(mode, previous, view, this.outputContext()))
          previous = view
        },
        onError: warningReporter(line => process.stderr.write(line)),
      })
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
