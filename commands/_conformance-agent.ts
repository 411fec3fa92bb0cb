import type {Command} from '@oclif/core'
import ConformanceAgent from './conformance/agent.ts'

/** Commands of this area, merged into commands/index.ts (ids use ':' between topic and verb). */
export const CONFORMANCE_AGENT_COMMANDS: Record<string, typeof Command> = {'conformance:agent': ConformanceAgent}
