import {ConflictError, NotFoundError, ValidationError, type ErrorDetail} from '../../util/errors.ts'
import {BAD_REQUEST} from '../domain-errors.ts'

export type {ErrorDetail}
// Routes check their input with the same errors the services throw.
export {badRequest, invalid, notFound} from '../domain-errors.ts'

/** The operator API's error shape: `{"error": {code, message, details?}}`. Never used on the device interface. */
export class OperatorError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details: ErrorDetail[] = []) {
    super(message)
  }

  toResponse(): Response {
    const error: Record<string, unknown> = {code: this.code, message: this.message}
    if (this.details.length) error.details = this.details
    return Response.json({error}, {status: this.status})
  }
}

/**
 * The one place a domain error gets its HTTP status; code, message and details pass through.
 * null for anything else: an unexpected failure, answered 500 by the caller.
 */
export function toOperatorError(err: unknown): OperatorError | null {
  if (err instanceof OperatorError) return err
  if (err instanceof NotFoundError) return new OperatorError(404, err.code, err.message)
  if (err instanceof ValidationError) return new OperatorError(err.code === BAD_REQUEST ? 400 : 422, err.code, err.message, err.details)
  if (err instanceof ConflictError) return new OperatorError(409, err.code, err.message)
  return null
}
