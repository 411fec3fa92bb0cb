import type {Command} from '@oclif/core'
import RolloutAbort from './rollout/abort.ts'
import RolloutPause from './rollout/pause.ts'
import RolloutResume from './rollout/resume.ts'
import WindowAdd from './window/add.ts'
import WindowList from './window/list.ts'
import WindowRemove from './window/remove.ts'

/** Commands of staged rollouts and update windows, merged into commands/index.ts. */
export const WAVE_COMMANDS: Record<string, typeof Command> = {
  'rollout:pause': RolloutPause,
  'rollout:resume': RolloutResume,
  'rollout:abort': RolloutAbort,
  'window:add': WindowAdd,
  'window:list': WindowList,
  'window:remove': WindowRemove,
}
