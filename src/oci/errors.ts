/** Failures talking to an OCI registry, by what the caller can do about them. */
export type OciErrorKind =
  /** Credentials missing or refused. */
  | 'auth'
  /** Repository, tag or blob does not exist. */
  | 'not_found'
  /** Connection refused, DNS, TLS, timeout. */
  | 'unreachable'
  /** Content does not match its digest, or is larger than announced or allowed. */
  | 'integrity'
  /** The registry answered something the distribution specification does not allow. */
  | 'protocol'
  /** The request itself is not allowed (plain http to a remote host, credentials in a URL). */
  | 'usage'

export class OciError extends Error {
  constructor(readonly kind: OciErrorKind, message: string, options: {cause?: unknown, status?: number} = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'OciError'
    this.status = options.status
  }
  readonly status: number | undefined
}
