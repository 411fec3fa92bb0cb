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

/**
 * The exit code of `margo agent --once` for what stopped its cycle (see the CLI conventions):
 * 5 when the WFM could not be reached, 4 when it refused the device, 1 for anything else.
 */
export function onceExitCode(err: unknown): number {
  if (err instanceof WfmResponseError) return err.status === 401 || err.status === 403 ? 4 : err.status === 502 || err.status === 503 || err.status === 504 ? 5 : 1
  if (err instanceof MargoError) return err.exitCode
  return 1
}

/**
 * The error `--once` ends with when talking to the WFM failed during `step`. Transport and trust
 * errors already say what to do; a WFM answer gets the hint here.
 */
export function cycleFailure(step: string, err: Error): CycleFailedError {
  const code = onceExitCode(err)
  if (!(err instanceof WfmResponseError)) return new CycleFailedError(`${step}: ${err.message}`, code, err)
  const hint = code === 5 ? ' — the WFM is unavailable; try again later'
    : code === 4 ? ' — the WFM does not accept this device (yet): an operator can approve or pre-register it'
      : ''
  return new CycleFailedError(`${err.message}${hint}`, code, err)
}

/** `margo agent --once` could not complete its cycle; the command exits with `exitCode`. */
export class CycleFailedError extends MargoError {
  readonly exitCode: number

  constructor(message: string, exitCode: number, cause?: unknown) {
    super(message, {code: 'cycle_failed', cause})
    this.exitCode = exitCode
  }
}
