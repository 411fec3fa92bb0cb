import {Args} from '@oclif/core'
import {BaseCommand} from '../../src/cli/base-command.ts'
import {removeWindow} from '../../src/client/rollouts.ts'

export default class WindowRemove extends BaseCommand {
  static override summary = 'Remove an update window; the devices it held may be advanced at any time again'
  static override description = 'Rollouts that were holding devices for this window may advance them at once, unless another window still matches them. Needs an admin token.'
  static override examples = ['<%= config.bin %> window remove night']
  static override args = {name: Args.string({description: 'Window name', required: true})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(WindowRemove)
    const removed = await removeWindow(this.client(flags), args.name)
    this.emit(flags, removed, (r, ctx) => (ctx.tty ? `removed window ${r.name}` : r.name))
  }
}
