import type {Command} from '@oclif/core'
import AppLint from './app/lint.ts'
import AppPush from './app/push.ts'
import RegistryAdd from './registry/add.ts'
import RegistryList from './registry/list.ts'
import RegistryRemove from './registry/remove.ts'
import RegistryShow from './registry/show.ts'
import RegistrySync from './registry/sync.ts'

/** Commands of this area, merged into commands/index.ts (ids use ':' between topic and verb). */
export const REGISTRY_COMMANDS: Record<string, typeof Command> = {
  'app:lint': AppLint,
  'app:push': AppPush,
  'registry:add': RegistryAdd,
  'registry:list': RegistryList,
  'registry:show': RegistryShow,
  'registry:remove': RegistryRemove,
  'registry:sync': RegistrySync,
}
