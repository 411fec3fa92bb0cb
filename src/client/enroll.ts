import {containerRunLine} from './container-run-line.ts'
import type {CreatedJoinToken, JoinTokenInfo} from '../operator-contract/views.ts'
import {UsageError} from '../util/errors.ts'
import {createJoinToken} from './enrollment.ts'
import type {OperatorClient} from './operator-client.ts'

/** How the line vouches for the device it installs. */
export type Vouch =
  /** A join token made for this line: the device is active at once, with the token's labels. */
  | 'new-join-token'
  /** A join token the operator gave (--join-token). */
  | 'given-join-token'
  /** None: the device onboards pending and waits for `margo device approve`. */
  | 'none'

export interface EnrollCommand {
  /** The URL the device's agent is configured with. */
  deviceUrl: string
  /** `sha256:<hex>` of the root CA's DER, which the line verifies the server by. */
  caFingerprint: string
  vouch: Vouch
  /** The join token made for this line, without its secret (which is in `line`). */
  joinToken: JoinTokenInfo | null
  /** One line to paste on the device, as root. Holds the join token: a secret until it is used. */
  line: string
}

export interface EnrollOptions {
  /** key=value arguments, each possibly comma-separated: the labels of the join token made for the line. */
  labels: readonly string[]
  deviceUrl?: string
  /** How many devices the join token made for the line admits (server default 1). */
  uses?: number
  /** Lifetime of the join token made for the line, e.g. 24h (server default 24h). */
  expires?: string
  /** A join token to put in the line instead of making one. */
  joinToken?: string
  /** Put no join token in the line: the device waits for approval. */
  noJoinToken?: boolean
  /** Print the docker run line of the agent image instead of the host install. */
  container?: {image: string, stateDir?: string, kubeconfig?: string, name?: string}
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * The program the line runs, in single quotes, with its inputs as positional parameters so no
 * value is ever parsed as shell: $1 the server's origin, $2 the CA's SHA-256, $3 the agent's
 * server URL, $4 the join token when there is one. It fetches the CA without verification (`curl -k`) only to hash
 * it; unless the hash is the one in the line nothing else happens. Everything after that runs
 * over TLS verified against that CA, the install script included.
 */
const PROGRAM = [
  'set -eu',
  'd=$(mktemp -d)',
  'trap "rm -rf $d" EXIT',
  'curl -fsSk "$1/downloads/ca.der" -o "$d/ca.der" || { echo "margo: cannot download the CA from $1" >&2; exit 1; }',
  '[ "$(sha256sum "$d/ca.der" | cut -d" " -f1)" = "$2" ] || { echo "margo: refused: the CA served by $1 does not have the fingerprint sha256:$2 this command expects (wrong server, or the connection is intercepted); nothing was installed" >&2; exit 1; }',
  '{ echo "-----BEGIN CERTIFICATE-----"; base64 "$d/ca.der"; echo "-----END CERTIFICATE-----"; } > "$d/ca.pem"',
  'curl -fsS --cacert "$d/ca.pem" "$1/downloads/install.sh" -o "$d/install.sh"',
  'sh "$d/install.sh" --server "$3" --downloads "$1/downloads" --ca-file "$d/ca.pem" ${4:+--join-token "$4"}',
].join('; ')

/** The line for a device: verify the server's CA by fingerprint, then run its install script. */
export function enrollLine(opts: {deviceUrl: string, caFingerprint: string, joinToken?: string}): string {
  const hex = /^sha256:([0-9a-f]{64})$/.exec(opts.caFingerprint)?.[1]
  if (!hex) throw new Error(`the server sent the CA fingerprint ${JSON.stringify(opts.caFingerprint)}, not sha256:<hex>`)
  const origin = new URL(opts.deviceUrl).origin
  const args = [origin, hex, opts.deviceUrl, ...(opts.joinToken ? [opts.joinToken] : [])]
  return `sh -c ${shellQuote(PROGRAM)} margo-enroll ${args.map(shellQuote).join(' ')}`
}

function deviceUrlOf(raw: string): string {
  let url: URL
  try {
    url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `https://${raw}`)
  } catch {
    throw new UsageError(`--device-url ${raw} is not a URL — give the https:// URL devices reach the fleet manager at`)
  }
  if (url.protocol !== 'https:' || url.search || url.hash || url.username) throw new UsageError(`--device-url ${raw} must be a plain https:// URL (no query, fragment or credentials)`)
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

// What the server's join tokens are made of; checked so a token pasted by hand is safe in YAML and shell.
const JOIN_TOKEN_TEXT = /^[A-Za-z0-9_.~-]{16,512}$/

/** Which flags go together: the labels, uses and expiry describe the join token the command makes. Pure. */
export function vouchOf(opts: Pick<EnrollOptions, 'labels' | 'uses' | 'expires' | 'joinToken' | 'noJoinToken'>): Vouch {
  if (opts.noJoinToken && opts.joinToken !== undefined) throw new UsageError('give --join-token or --no-join-token, not both')
  if (opts.joinToken === undefined && !opts.noJoinToken) return 'new-join-token'
  const made = [opts.labels.length > 0 && '--labels', opts.uses !== undefined && '--uses', opts.expires !== undefined && '--expires'].filter(Boolean)
  if (made.length > 0) {
    throw new UsageError(opts.noJoinToken
      ? `${made.join(', ')} describe the join token the line carries, and --no-join-token makes none: label the device when you approve it (margo device label <clientId> k=v)`
      : `${made.join(', ')} describe a join token the command makes; the one given with --join-token already has its labels, uses and expiry`)
  }
  if (opts.joinToken !== undefined && !JOIN_TOKEN_TEXT.test(opts.joinToken.trim())) throw new UsageError('--join-token: give the token margo device join-token create printed (margo-join_…)')
  return opts.noJoinToken ? 'none' : 'given-join-token'
}

/**
 * The line for a device. By default it carries a join token made for it (single use, 24 hours,
 * with `labels`), so the device it installs is active at once; the server tells the device API
 * URL (unless `deviceUrl`) and the fingerprint of the CA the line pins.
 */
export async function enrollCommand(client: OperatorClient, opts: EnrollOptions): Promise<EnrollCommand> {
  const vouch = vouchOf(opts)
  const health = await client.health()
  if (!health.caFingerprint) throw new Error('the server does not say which CA devices pin (GET /operator/v1/health has no caFingerprint): update margo serve')
  const deviceUrl = deviceUrlOf(opts.deviceUrl ?? health.deviceApiUrl)
  let created: CreatedJoinToken | null = null
  if (vouch === 'new-join-token') {
    created = await createJoinToken(client, {
      labels: opts.labels.flatMap(l => l.split(',')).map(l => l.trim()).filter(Boolean),
      ...(opts.uses !== undefined ? {uses: opts.uses} : {}), ...(opts.expires !== undefined ? {expires: opts.expires} : {}),
    })
  }
  const token = created?.token ?? opts.joinToken?.trim()
  const line = opts.container
    ? containerRunLine({server: deviceUrl, caFingerprint: health.caFingerprint, ...opts.container, ...(token ? {joinToken: token} : {})})
    : enrollLine({deviceUrl, caFingerprint: health.caFingerprint, ...(token ? {joinToken: token} : {})})
  let joinToken: JoinTokenInfo | null = null
  if (created) {
    const {token: _secret, ...info} = created
    joinToken = info
  }
  return {deviceUrl, caFingerprint: health.caFingerprint, vouch, joinToken, line}
}
