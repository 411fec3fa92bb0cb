import {OperationError} from '../../util/errors.ts'
import type {ReportedError} from '../types.ts'

/**
 * Stable codes a device reports when a component fails. Each names what an operator has to
 * look at: the device's tooling, the package, the chart or the workload itself.
 */
export const DRIVER_ERROR_CODES = [
  // Tooling on the device.
  'HELM_NOT_FOUND',
  'DOCKER_NOT_FOUND',
  'COMPOSE_NOT_FOUND',
  // Helm.
  'HELM_REPOSITORY_INVALID',
  'HELM_RELEASE_NAME_INVALID',
  'HELM_VALUES_INVALID',
  'HELM_CLUSTER_UNREACHABLE',
  'HELM_INSTALL_FAILED',
  'HELM_TIMEOUT',
  'HELM_UNINSTALL_FAILED',
  'HELM_STATUS_FAILED',
  // Compose packages.
  'PACKAGE_LOCATION_MISSING',
  'PACKAGE_DOWNLOAD_FAILED',
  'PACKAGE_INVALID',
  'PACKAGE_KEY_DOWNLOAD_FAILED',
  'PACKAGE_KEY_INVALID',
  'PACKAGE_SIGNATURE_MISSING',
  'PACKAGE_SIGNATURE_INVALID',
  // Compose.
  'COMPOSE_PARAMETER_INVALID',
  'COMPOSE_UP_FAILED',
  'COMPOSE_TIMEOUT',
  'COMPOSE_CONTAINER_FAILED',
  'COMPOSE_DOWN_FAILED',
  'COMPOSE_STATUS_FAILED',
  // The device itself.
  'WORKDIR_UNWRITABLE',
  'INTERRUPTED',
  'DRIVER_INTERNAL_ERROR',
  // A rehearsal: `margo simulate --fail-rate` made this apply fail on purpose.
  'SIMULATED_FAILURE',
] as const
export type DriverErrorCode = (typeof DRIVER_ERROR_CODES)[number]

/** A workload failure with the code reported to the WFM. Drivers turn it into a failed component. */
export class DriverError extends OperationError {
  declare readonly code: DriverErrorCode

  constructor(code: DriverErrorCode, message: string) {
    super(message, {code})
  }

  toReported(): ReportedError {
    return {code: this.code, message: this.message}
  }
}

/** The last lines of a tool's output, enough to explain a failure without flooding the status report. */
export function outputTail(text: string, maxLines = 15, maxChars = 1500): string {
  const lines = text.replace(/\r\n?/g, '\n').trimEnd().split('\n')
  let tail = lines.slice(-maxLines).join('\n').trim()
  if (tail.length > maxChars) tail = `…${tail.slice(-maxChars)}`
  return tail
}

/** `message: <tail>` when the tool said something, else just the message. */
export function withOutput(message: string, output: string): string {
  const tail = outputTail(output)
  return tail ? `${message}: ${tail}` : message
}
