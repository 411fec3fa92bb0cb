import {createHash, X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {MargoError} from '../util/errors.ts'
import {derToPem} from '../pki/index.ts'
import {writeFileAtomic} from '../util/fs.ts'
import {readBodyCapped, transportErrorFrom, type FetchLike} from './device-client.ts'
import {parseCaFingerprint} from './config/ca-fingerprint.ts'

export type TrustSource = 'file' | 'pinned' | 'remembered' | 'tofu'

export interface Trust {
  /** One or more PEM certificates: the only anchors the agent accepts for the WFM's TLS certificate. */
  caPem: string
  source: TrustSource
  /** `sha256:<hex>` of each trusted certificate's DER. */
  fingerprints: string[]
}

export interface TrustOptions {
  server: string
  caFile?: string
  /** `sha256:<hex>` (or any form parseCaFingerprint reads) of the CA certificate DER. */
  caFingerprint?: string
  insecureTofu?: boolean
  log?: {warn(event: string, fields?: Record<string, unknown>): void, info(event: string, fields?: Record<string, unknown>): void}
  timeoutMs?: number
}

export type TrustErrorCode = 'no_trust' | 'fingerprint_mismatch' | 'bad_ca' | 'download_failed'

/** The agent cannot establish whom to trust. `retryable` is true only for a transient download failure. */
export class TrustError extends MargoError {
  readonly exitCode: number
  readonly retryable: boolean

  constructor(message: string, code: TrustErrorCode, options: {retryable?: boolean, cause?: unknown} = {}) {
    super(message, {code, cause: options.cause})
    this.retryable = options.retryable ?? false
    this.exitCode = code === 'fingerprint_mismatch' ? 4 : code === 'download_failed' ? 5 : 2
  }
}

/** Where a CA obtained by pinning or trust-on-first-use is kept. */
export function rememberedCaPath(stateDir: string): string {
  return join(stateDir, 'ca.pem')
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g
const MAX_CA_BYTES = 1024 * 1024

export interface DecodedCertificate {
  pem: string
  fingerprint: string
  isCa: boolean
  subject: string
}

function decodeDer(der: Uint8Array): DecodedCertificate | null {
  try {
    const cert = new X509Certificate(der)
    const exact = new Uint8Array(cert.raw)
    return {
      pem: derToPem(exact),
      fingerprint: `sha256:${createHash('sha256').update(exact).digest('hex')}`,
      isCa: cert.ca,
      subject: (cert.subject ?? '').replace(/\n/g, ', '),
    }
  } catch {
    return null
  }
}

function decodePemBlocks(text: string): DecodedCertificate[] | null {
  const blocks = text.match(PEM_CERT) ?? []
  const out: DecodedCertificate[] = []
  for (const block of blocks) {
    const body = block.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '')
    const decoded = decodeDer(new Uint8Array(Buffer.from(body, 'base64')))
    if (!decoded) return null
    out.push(decoded)
  }
  return out.length > 0 ? out : null
}

/**
 * Certificates however a CA is handed over: PEM (one or a chain), base64 of PEM, base64 of
 * DER, or raw DER. Null when nothing usable is found.
 */
export function decodeCertificates(input: string | Uint8Array): DecodedCertificate[] | null {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)
  if (bytes[0] === 0x30) {
    const der = decodeDer(new Uint8Array(bytes))
    return der ? [der] : null
  }
  const text = bytes.toString('utf8').trim()
  if (text.includes('-----BEGIN')) return decodePemBlocks(text)
  const compact = text.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return null
  const decoded = Buffer.from(compact, 'base64')
  const inner = decoded.toString('latin1')
  if (inner.includes('-----BEGIN')) return decodePemBlocks(inner)
  const der = decodeDer(new Uint8Array(decoded))
  return der ? [der] : null
}

function joinPem(certs: DecodedCertificate[]): string {
  return certs.map(c => c.pem).join('')
}

function normalizePin(pin: string): string {
  const fp = parseCaFingerprint(pin)
  if (!fp) throw new TrustError(`the CA fingerprint ${JSON.stringify(pin)} is not a SHA-256 fingerprint — use sha256:<64 hex> or colon-separated hex pairs`, 'bad_ca')
  return fp
}

function readCaFile(path: string): DecodedCertificate[] {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new TrustError(`cannot read the CA file ${path}: ${code === 'ENOENT' ? 'it does not exist' : code ?? 'unreadable'}`, 'bad_ca', {cause: err})
  }
  const certs = decodeCertificates(bytes)
  if (!certs) throw new TrustError(`${path} holds no readable certificate — the CA file must contain the fleet manager's CA certificate in PEM`, 'bad_ca')
  return certs
}

function readRemembered(path: string): DecodedCertificate[] | null {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch {
    return null
  }
  return decodeCertificates(bytes)
}

/** The certificates among `certs` that match the pin; a downloaded bundle is trusted no further than that. */
function pinned(certs: DecodedCertificate[], pin: string): DecodedCertificate[] {
  return certs.filter(c => c.fingerprint === pin)
}

/**
 * `GET <server>/api/v1/onboarding/certificate`, the one request made before the WFM can be
 * authenticated. Its TLS is not verified, so its answer is only used once it passes the pin
 * or the operator has explicitly chosen trust-on-first-use. The connection is not kept for
 * reuse, so no later request travels over it.
 */
async function downloadCa(server: string, fetchImpl: FetchLike, timeoutMs: number): Promise<DecodedCertificate[]> {
  const url = `${server.replace(/\/+$/, '')}/api/v1/onboarding/certificate`
  let response: Response
  try {
    response = await fetchImpl(url, {
      method: 'GET',
      headers: {accept: 'application/json', connection: 'close'},
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
      keepalive: false,
      tls: {rejectUnauthorized: false},
    } as RequestInit)
  } catch (err) {
    const transport = transportErrorFrom(err, url, timeoutMs)
    throw new TrustError(`cannot download the fleet manager's CA: ${transport.message}`, 'download_failed', {retryable: true, cause: transport})
  }
  let body: Uint8Array
  try {
    body = await readBodyCapped(response, MAX_CA_BYTES, url, timeoutMs)
  } catch (err) {
    throw new TrustError(`cannot download the fleet manager's CA: ${(err as Error).message}`, 'download_failed', {retryable: true, cause: err})
  }
  if (response.status !== 200) {
    const transient = response.status >= 500 || response.status === 429 || response.status === 408
    throw new TrustError(
      `GET ${url} answered ${response.status}, expected 200 with the CA certificate — check that the server URL names the fleet manager's API root (including any prefix such as /v1alpha2/margo)`,
      'download_failed', {retryable: transient})
  }
  const text = new TextDecoder().decode(body)
  let encoded: string = text
  try {
    const doc = JSON.parse(text) as {certificate?: unknown}
    if (typeof doc?.certificate !== 'string') throw new Error('no certificate member')
    encoded = doc.certificate
  } catch {
    // Some fleet managers answer with bare PEM text instead of the JSON document.
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      throw new TrustError(`GET ${url} did not return {"certificate": …} — is this a Margo fleet manager?`, 'bad_ca')
    }
  }
  const certs = decodeCertificates(encoded)
  if (!certs) throw new TrustError(`the certificate returned by ${url} cannot be read as base64 DER, base64 PEM or PEM`, 'bad_ca')
  return certs
}

/**
 * Decides which CA the agent trusts for the WFM. In order: the configured CA file; the CA
 * remembered from an earlier pin or trust-on-first-use (unless a pin now names another one);
 * a CA downloaded from the WFM and accepted by the pin, or by explicit trust-on-first-use.
 * Whatever is chosen, every later request verifies the WFM's certificate and host name
 * against it.
 */
export async function resolveTrust(stateDir: string, options: TrustOptions, fetchImpl: FetchLike = (i, init) => fetch(i, init)): Promise<Trust> {
  const pin = options.caFingerprint ? normalizePin(options.caFingerprint) : undefined

  if (options.caFile) {
    const certs = readCaFile(options.caFile)
    if (pin) {
      const match = pinned(certs, pin)
      if (match.length === 0) {
        throw new TrustError(
          `no certificate in ${options.caFile} has the fingerprint ${pin} (found ${certs.map(c => c.fingerprint).join(', ')}) — the CA file or the fingerprint is wrong`,
          'fingerprint_mismatch')
      }
    }
    return {caPem: joinPem(certs), source: 'file', fingerprints: certs.map(c => c.fingerprint)}
  }

  const rememberedPath = rememberedCaPath(stateDir)
  const remembered = readRemembered(rememberedPath)
  if (remembered && (!pin || pinned(remembered, pin).length > 0)) {
    const trusted = pin ? pinned(remembered, pin) : remembered
    return {caPem: joinPem(trusted), source: 'remembered', fingerprints: trusted.map(c => c.fingerprint)}
  }

  if (!pin && !options.insecureTofu) {
    throw new TrustError(
      `no CA is configured for ${options.server} — choose one: --ca-file <path> with the fleet manager's CA certificate (best), ` +
      `--ca-fingerprint sha256:<hex> to download the CA and check it against a fingerprint obtained out of band, ` +
      `or --insecure-tofu to accept whatever CA the server presents the first time (unsafe on untrusted networks)`,
      'no_trust')
  }

  const downloaded = await downloadCa(options.server, fetchImpl, options.timeoutMs ?? 30_000)
  let accepted: DecodedCertificate[]
  let source: TrustSource
  if (pin) {
    accepted = pinned(downloaded, pin)
    if (accepted.length === 0) {
      throw new TrustError(
        `the CA served by ${options.server} has the fingerprint ${downloaded.map(c => c.fingerprint).join(', ')}, not the expected ${pin} — refusing to trust it; ` +
        `check the fingerprint with the fleet manager's operator (someone may be intercepting the connection)`,
        'fingerprint_mismatch')
    }
    source = 'pinned'
    options.log?.info('trust.ca_pinned', {server: options.server, fingerprint: pin})
  } else {
    accepted = downloaded
    source = 'tofu'
    options.log?.warn('trust.tofu_accepted', {
      server: options.server,
      fingerprints: accepted.map(c => c.fingerprint),
      subjects: accepted.map(c => c.subject),
      hint: 'compare the fingerprint with the fleet manager\'s CA, then prefer --ca-fingerprint',
    })
  }
  writeFileAtomic(rememberedPath, joinPem(accepted), 0o644)
  return {caPem: joinPem(accepted), source, fingerprints: accepted.map(c => c.fingerprint)}
}
