import {MargoError} from '../util/errors.ts'

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

/** Exit code of a command that ends with each kind (see the CLI conventions). */
const EXIT_CODES: Readonly<Record<OciErrorKind, number>> = {
  auth: 4, not_found: 3, unreachable: 5, usage: 2, integrity: 1, protocol: 1,
}

export class OciError extends MargoError {
  readonly kind: OciErrorKind
  readonly status: number | undefined

  constructor(kind: OciErrorKind, message: string, options: {cause?: unknown, status?: number} = {}) {
    super(message, {code: `oci_${kind}`, cause: options.cause})
    this.kind = kind
    this.status = options.status
  }

  get exitCode(): number {
    return EXIT_CODES[this.kind]
  }
}
