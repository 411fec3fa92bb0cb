import type {Command} from '@oclif/core'
import ConformanceWfm from './conformance/wfm.ts'

/** Commands of this area, merged into commands/index.ts (ids use ':' between topic and verb). */
export const CONFORMANCE_WFM_COMMANDS: Record<string, typeof Command> = {'conformance:wfm': ConformanceWfm}
