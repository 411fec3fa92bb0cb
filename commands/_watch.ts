import type {Command} from '@oclif/core'
import Status from './status.ts'

/** Commands of this area, merged into commands/index.ts (ids use ':' between topic and verb). */
export const WATCH_COMMANDS: Record<string, typeof Command> = {status: Status}
