import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderWindows} from '../../src/cli/fleet/windows-render.ts'
import {addWindow} from '../../src/client/rollouts.ts'

export default class WindowAdd extends BaseCommand {
  static override summary = 'Add an update window: rollouts advance the devices it selects only while it is open'
  static override description = 'A device that matches one or more windows is only advanced by a rollout while one of them is open; devices that match none may be advanced any time. --schedule is a five-field cron expression (minute hour day-of-month month day-of-week) read in --timezone (default UTC, DST-aware); the window stays open for --duration after each firing. Needs an admin token.'
  static override examples = ["<%= config.bin %> window add night --selector site=berlin --schedule '0 2 * * *' --duration 2h --timezone Europe/Berlin"]
  static override args = {name: Args.string({description: 'Window name (a DNS label)', required: true})}
  static override flags = {
    selector: Flags.string({summary: 'Label selector of the devices the window holds.', required: true}),
    schedule: Flags.string({summary: "When the window opens: five-field cron, e.g. '0 2 * * 6'.", required: true}),
    duration: Flags.string({summary: 'How long it stays open, e.g. 2h or 90m.', required: true}),
    timezone: Flags.string({summary: 'IANA time zone of the schedule (default UTC).'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(WindowAdd)
    const w = await addWindow(this.client(flags), {name: args.name, selector: flags.selector, schedule: flags.schedule, duration: flags.duration, ...(flags.timezone ? {timeZone: flags.timezone} : {})})
    this.emit(flags, w, (x, ctx) => renderWindows([x], ctx))
  }
}
