import type {FieldError} from './result.ts'

/** Namespace of the Margo problem types of the signature-era catalogue. */
export const PROBLEM_TYPE_BASE = 'https://docs.margo.org/specification/problems/'

interface ProblemEntry {
  status: number
  title: string
  /**
   * The `error` extension member: a short human sentence. Device clients written against the
   * G1 OpenAPI read `{"error": "..."}`, so each slug carries the phrase those clients look for.
   */
  error: string
  /** False for problems with no Margo type: they are sent as `about:blank` with the HTTP reason phrase as title. */
  margo: boolean
}

const margo = (status: number, title: string, error: string): ProblemEntry => ({status, title, error, margo: true})
const blank = (status: number, title: string): ProblemEntry => ({status, title, error: title, margo: false})

export const PROBLEMS = {
  'invalid-certificate-format': margo(400, 'Invalid Certificate', 'Invalid certificate'),
  'invalid-digest-header': margo(400, 'Invalid Digest Header', 'Missing or invalid content-digest header'),
  'invalid-request': margo(400, 'Invalid Request', 'Invalid request'),
  'signature-verification-failed': margo(401, 'Signature Verification Failed', 'Signature verification failed'),
  'certificate-not-trusted': margo(403, 'Certificate Not Trusted', 'Client rejected: certificate not trusted or revoked'),
  'invalid-client': margo(404, 'Invalid Client', 'Client not found'),
  'invalid-bundle': margo(404, 'Invalid Bundle', 'Bundle not found'),
  'deployment-not-found': margo(404, 'Deployment Not Found', 'Deployment not found for digest'),
  'server-cannot-generate-response': margo(406, 'Server Cannot Generate Response', 'Not acceptable'),
  'semantic-error': margo(422, 'Semantic Error', 'Request body includes a semantic error'),
  'bad-request': blank(400, 'Bad Request'),
  'not-found': blank(404, 'Not Found'),
  'method-not-allowed': blank(405, 'Method Not Allowed'),
  'conflict': blank(409, 'Conflict'),
  'payload-too-large': blank(413, 'Payload Too Large'),
  'unsupported-media-type': blank(415, 'Unsupported Media Type'),
  'too-many-requests': blank(429, 'Too Many Requests'),
  'internal-error': blank(500, 'Internal Server Error'),
  'service-unavailable': blank(503, 'Service Unavailable'),
} as const satisfies Record<string, ProblemEntry>

export type ProblemSlug = keyof typeof PROBLEMS
export type MargoProblemSlug = {[K in ProblemSlug]: (typeof PROBLEMS)[K]['margo'] extends true ? K : never}[ProblemSlug]

/** RFC 9457 problem details plus the `error`/`errors` extension members. */
export interface ProblemDetails {
  type: string
  title: string
  status: number
  detail: string
  instance?: string
  error?: string
  errors?: FieldError[]
  [extension: string]: unknown
}

export function problemType(slug: ProblemSlug): string {
  return PROBLEMS[slug].margo ? PROBLEM_TYPE_BASE + slug : 'about:blank'
}

/**
 * Builds a problem body. Extension members override the defaults, so a caller can set a more
 * specific `error`. A 422 always carries an `errors` array because clients branch on it.
 */
export function problem(slug: ProblemSlug, detail: string, extensions: Record<string, unknown> = {}): {status: number, body: ProblemDetails} {
  const entry = PROBLEMS[slug]
  const body: ProblemDetails = {
    ...extensions,
    type: problemType(slug),
    title: entry.title,
    status: entry.status,
    detail,
    error: typeof extensions.error === 'string' ? extensions.error : entry.error,
  }
  if (entry.status === 422 && !Array.isArray(body.errors)) body.errors = []
  return {status: entry.status, body}
}
