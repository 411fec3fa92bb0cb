import type {Command} from '@oclif/core'
import Backup from './backup.ts'
import Restore from './restore.ts'

/** Backup and restore of a data dir, merged into commands/index.ts. */
export const BACKUP_COMMANDS: Record<string, typeof Command> = {
  backup: Backup,
  restore: Restore,
}
