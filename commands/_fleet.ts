import type {Command} from '@oclif/core'
import Deploy from './deploy.ts'
import DeviceLabel from './device/label.ts'
import Undeploy from './undeploy.ts'

/** Commands of this area, merged into commands/index.ts (ids use ':' between topic and verb). */
export const FLEET_COMMANDS: Record<string, typeof Command> = {deploy: Deploy, undeploy: Undeploy, 'device:label': DeviceLabel}
