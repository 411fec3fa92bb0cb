import {parseLabelArguments} from '../operator-contract/labels.ts'
import {parseDuration} from '../util/duration.ts'
import {UsageError, ValidationError} from '../util/errors.ts'
import type {OperatorClient} from './operator-client.ts'

/** What the server answers when it issues an enrollment ticket. */
export interface EnrollmentTicket {
  ticket: string
  labels: Record<string, string>
  expiresAt: string
  deviceApiUrl: string
  /** `sha256:<hex>` of the root CA's DER. */
  caFingerprint: string
}

export interface EnrollCommand extends EnrollmentTicket {
  /** The URL the device's agent is configured with. */
  deviceUrl: string
  /** One line to paste on the device, as root. */
  line: string
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * The program the line runs, in single quotes, with its inputs as positional parameters so no
 * value is ever parsed as shell: $1 the server's origin, $2 the CA's SHA-256, $3 the agent's
 * server URL, $4 the ticket. It fetches the CA without verification (`curl -k`) only to hash
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
  'sh "$d/install.sh" --server "$3" --downloads "$1/downloads" --ca-file "$d/ca.pem" --ticket "$4"',
].join('; ')

/** The line for a device: verify the server's CA by fingerprint, then run its install script. */
export function enrollLine(opts: {deviceUrl: string, caFingerprint: string, ticket: string}): string {
  const hex = /^sha256:([0-9a-f]{64})$/.exec(opts.caFingerprint)?.[1]
  if (!hex) throw new Error(`the server sent the CA fingerprint ${JSON.stringify(opts.caFingerprint)}, not sha256:<hex>`)
  const origin = new URL(opts.deviceUrl).origin
  return `sh -c ${shellQuote(PROGRAM)} margo-enroll ${[origin, hex, opts.deviceUrl, opts.ticket].map(shellQuote).join(' ')}`
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

/**
 * Asks the server for an enrollment ticket with `labels` (key=value arguments) and builds the
 * device's install line. `deviceUrl` defaults to the device API URL the server reports.
 */
export async function enrollCommand(client: OperatorClient, opts: {labels: readonly string[], deviceUrl?: string, ttl?: string}): Promise<EnrollCommand> {
  const parsed = parseLabelArguments(opts.labels.flatMap(l => l.split(',')).map(l => l.trim()).filter(Boolean))
  if (!parsed.ok) throw new ValidationError('invalid --labels — give key=value, keys [prefix/]name, values at most 63 characters of letters, digits, \'-\', \'_\' and \'.\'', parsed.problems)
  const labels = Object.entries(parsed.patch)
  const removed = labels.filter(([, v]) => v === null).map(([k]) => k)
  if (removed.length > 0) throw new UsageError(`--labels sets labels (key=value); "${removed[0]}-" removes one, which means nothing for a new device`)
  let ttlSeconds: number | undefined
  if (opts.ttl !== undefined) {
    try {
      ttlSeconds = Math.round(parseDuration(opts.ttl) / 1000)
    } catch (err) {
      throw new UsageError(`--ttl: ${(err as Error).message} (e.g. 24h, 7d)`)
    }
  }
  const issued = await client.call<EnrollmentTicket>('POST', '/enrollment-tickets', {body: {labels: Object.fromEntries(labels), ...(ttlSeconds !== undefined ? {ttlSeconds} : {})}})
  const deviceUrl = deviceUrlOf(opts.deviceUrl ?? issued.deviceApiUrl)
  return {...issued, deviceUrl, line: enrollLine({deviceUrl, caFingerprint: issued.caFingerprint, ticket: issued.ticket})}
}
