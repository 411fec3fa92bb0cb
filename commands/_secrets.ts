import type {Command} from '@oclif/core'
import SecretDelete from './secret/delete.ts'
import SecretList from './secret/list.ts'
import SecretSet from './secret/set.ts'

/** Secrets, merged into commands/index.ts. */
export const SECRET_COMMANDS: Record<string, typeof Command> = {
  'secret:set': SecretSet,
  'secret:list': SecretList,
  'secret:delete': SecretDelete,
}
