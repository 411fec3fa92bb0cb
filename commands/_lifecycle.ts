import type {Command} from '@oclif/core'
import DeviceDelete from './device/delete.ts'
import DeviceReject from './device/reject.ts'
import DeviceReplace from './device/replace.ts'

/** The device lifecycle past approve and revoke, merged into commands/index.ts. */
export const LIFECYCLE_COMMANDS: Record<string, typeof Command> = {
  'device:reject': DeviceReject,
  'device:delete': DeviceDelete,
  'device:replace': DeviceReplace,
}
