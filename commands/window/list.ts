import {BaseCommand} from '../../src/cli/base-command.ts'
import {renderWindows} from '../../src/cli/fleet/windows-render.ts'
import {listWindows} from '../../src/client/rollouts.ts'

export default class WindowList extends BaseCommand {
  static override summary = 'List update windows, whether each is open and when it next opens'
  static override description = 'Each window with its selector, schedule, duration and time zone, whether it is open now, and when it next opens. Devices that match no window may be advanced at any time.'
  static override examples = ['<%= config.bin %> window list', '<%= config.bin %> window list --json']

  async run(): Promise<void> {
    const {flags} = await this.parse(WindowList)
    this.emit(flags, await listWindows(this.client(flags)), renderWindows)
  }
}
