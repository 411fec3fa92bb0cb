import {MargoError} from '../../util/errors.ts'

/** A WFM answer that is neither success nor "not modified": carries what the back-off needs. */
export class WfmResponseError extends MargoError {
  constructor(readonly status: number, readonly retryAfter: string | null, readonly problem: {type?: string, detail?: string} | null, what: string) {
    super(`${what}: the server answered ${status}${problem?.detail ? ` (${problem.detail})` : ''}`, {code: `http_${status}`})
  }

  /** Refused credentials or enrollment end the agent with 4, an unknown client with 3, anything else with 1. */
  get exitCode(): number {
    return this.status === 401 || this.status === 403 ? 4 : this.status === 404 ? 3 : 1
  }

  /** 429 and 5xx are the server's trouble: retry with back-off. Other 4xx need a person or a new cycle. */
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500
  }

  get pendingEnrollment(): boolean {
    return this.status === 403 && /pending/i.test(this.problem?.detail ?? '')
  }
}

export function problemOf(body: Uint8Array): {type?: string, detail?: string} | null {
  try {
    const v = JSON.parse(new TextDecoder().decode(body)) as {type?: unknown, detail?: unknown}
    return {type: typeof v.type === 'string' ? v.type : undefined, detail: typeof v.detail === 'string' ? v.detail : undefined}
  } catch {
    return null
  }
}
