import {MargoError} from '../../util/errors.ts'
import type {ConfigSource} from './types.ts'

export type ConfigErrorCode = 'invalid_value' | 'unknown_key' | 'missing_value' | 'unreadable_file'

/** A setting the agent cannot start with. Names the key, where the value came from and what is accepted. */
export class ConfigError extends MargoError {
  readonly exitCode = 2
  readonly key: string
  readonly source: ConfigSource
  /** `--server`, `MARGO_SERVER`, a file path, or `default`. */
  readonly origin: string
  readonly accepted: string
  readonly unknownKeys: string[]

  constructor(message: string, details: {code: ConfigErrorCode, key: string, source: ConfigSource, origin: string, accepted?: string, unknownKeys?: string[], cause?: unknown}) {
    super(message, {code: details.code, cause: details.cause})
    this.key = details.key
    this.source = details.source
    this.origin = details.origin
    this.accepted = details.accepted ?? ''
    this.unknownKeys = details.unknownKeys ?? []
  }
}
