import type {Driver} from '../types.ts'
import {createComposeDriver, type ComposeDriverOptions} from './compose-driver.ts'
import {createHelmDriver, type HelmDriverOptions} from './helm-driver.ts'

export type DriverType = 'helm.v3' | 'compose'

export interface DriverOptions {
  helm?: HelmDriverOptions
  compose?: ComposeDriverOptions
}

/** One driver per deployment profile type. */
export function createDrivers(options: DriverOptions = {}): Record<DriverType, Driver> {
  return {
    'helm.v3': createHelmDriver(options.helm),
    compose: createComposeDriver(options.compose),
  }
}

export {createComposeDriver, createHelmDriver}
export type {ComposeDriverOptions, HelmDriverOptions}
export {DRIVER_ERROR_CODES, DriverError, type DriverErrorCode} from './errors.ts'
export {DEFAULT_HELM_NAMESPACE} from './helm-args.ts'
