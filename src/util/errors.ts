/**
 * Failures of operator operations, each with the process exit code the CLI uses for it
 * (see the exit code table in the CLI conventions). Messages say what failed and what to do.
 */

export interface ErrorDetail {
  path: string
  message: string
}

export abstract class MargoError extends Error {
  abstract readonly exitCode: number
  /** Machine code, from the server's error body when there is one. */
  readonly code: string

  constructor(message: string, options: {code?: string; cause?: unknown} = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.code = options.code ?? 'error'
  }
}

/** The operation ran and failed (server error, conflict, a deployment that failed). */
export class OperationError extends MargoError {
  readonly exitCode = 1
}

/**
 * The request clashes with what exists: a version already published with other content, a
 * name already taken, a change to something removed. An operation failure, so exit code 1.
 */
export class ConflictError extends OperationError {}

/** The command line itself is wrong: a bad flag value, an unreadable file, a malformed reference. */
export class UsageError extends MargoError {
  readonly exitCode = 2
}

/** Input the server (or a local check) rejected; `details` names every problem by path. */
export class ValidationError extends MargoError {
  readonly exitCode = 2
  readonly details: ErrorDetail[]

  constructor(message: string, details: ErrorDetail[] = [], options: {code?: string; cause?: unknown} = {}) {
    super(message, options)
    this.details = details
  }
}

/** An unknown device, app, version or deployment. */
export class NotFoundError extends MargoError {
  readonly exitCode = 3
}

/** Missing or rejected credentials, or a device whose enrollment forbids the action. */
export class AuthError extends MargoError {
  readonly exitCode = 4
}

/** The server cannot be reached: connection refused, DNS, TLS, timeout. */
export class UnreachableError extends MargoError {
  readonly exitCode = 5
}

/** The operator interrupted a wait (Ctrl-C); what runs on the server goes on. 128 + SIGINT, as shells expect. */
export class InterruptedError extends MargoError {
  readonly exitCode = 130
}

export function isMargoError(err: unknown): err is MargoError {
  return err instanceof MargoError
}
