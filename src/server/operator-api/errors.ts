/** The operator API's error shape: `{"error": {code, message, details?}}`. Never used on the device interface. */
export interface ErrorDetail {
  path: string
  message: string
}

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

export const notFound = (kind: 'device' | 'app' | 'deployment', id: string, hint: string) =>
  new OperatorError(404, `${kind}_not_found`, `${kind} ${id} not found — ${hint}`)

export const badRequest = (message: string, details: ErrorDetail[] = []) => new OperatorError(400, 'bad_request', message, details)

export const invalid = (code: string, message: string, details: {field?: string, path?: string, message: string}[] = []) =>
  new OperatorError(422, code, message, details.map(d => ({path: d.path ?? d.field ?? '', message: d.message})))
