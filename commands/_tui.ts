import type {Command} from '@oclif/core'
import Tui from './tui.ts'

/** Commands of this area, merged into commands/index.ts (ids use ':' between topic and verb). */
export const TUI_COMMANDS: Record<string, typeof Command> = {tui: Tui}
