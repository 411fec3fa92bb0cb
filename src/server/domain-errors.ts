/**
 * How server services say a request cannot be done, without knowing it came over HTTP. Each
 * error carries the machine code the operator API answers with; the API turns the class into
 * a status in one place (src/server/operator-api/errors.ts).
 */
import {ConflictError, NotFoundError, ValidationError, type ErrorDetail} from '../util/errors.ts'

/** The code of input whose shape is wrong (a missing or mistyped field), before its content is judged. */
export const BAD_REQUEST = 'bad_request'

export type ResourceKind = 'device' | 'app' | 'deployment' | 'rollout' | 'registry' | 'token' | 'join_token' | 'secret' | 'window'

export const notFound = (kind: ResourceKind, id: string, hint: string) =>
  new NotFoundError(`${kind} ${id} not found — ${hint}`, {code: `${kind}_not_found`})

export const badRequest = (message: string, details: ErrorDetail[] = []) => new ValidationError(message, details, {code: BAD_REQUEST})

/** Input that was understood and refused; every problem named by its path (or field). */
export const invalid = (code: string, message: string, details: {field?: string, path?: string, message: string}[] = []) =>
  new ValidationError(message, details.map(d => ({path: d.path ?? d.field ?? '', message: d.message})), {code})

export const conflict = (message: string, code = 'conflict') => new ConflictError(message, {code})

/**
 * Refused parameter values: the message sums up, each problem is named once, in the details
 * (a client lists them line by line; repeating them in the message would print them twice).
 */
export const invalidParameters = (errors: {field: string, message: string, code?: string}[]) =>
  invalid(
    errors.some(e => e.code === 'immutable') ? 'immutable_parameter' : 'invalid_parameters',
    errors.length === 1 ? 'a parameter value is invalid' : `${errors.length} parameter values are invalid`,
    errors.map(e => ({path: e.field, message: e.message})),
  )
