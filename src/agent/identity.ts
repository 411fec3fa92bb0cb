import {createHash, createHmac, createPublicKey, randomBytes, type KeyObject} from 'node:crypto'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {hostname as osHostname} from 'node:os'
import {join} from 'node:path'
import {MargoError} from '../util/errors.ts'
import {createSelfSignedDeviceCertificate, parseCertificate} from '../pki/index.ts'
import {
  defaultAlgorithm, describeKey, generateKeyPair, loadPrivateKey, privateKeyToPem, signBytes, verifyBytes,
  type SignatureAlgorithm,
} from '../signing/index.ts'
import {writeFileAtomic, writeSecretFile} from '../util/fs.ts'
import type {AgentKeyType} from './config/types.ts'

/** Files the agent keeps in its state directory for its identity. */
export function identityFiles(stateDir: string) {
  return {
    key: join(stateDir, 'key.pem'),
    cert: join(stateDir, 'cert.pem'),
    record: join(stateDir, 'identity.json'),
  }
}

export interface Identity {
  privateKey: KeyObject
  /** The leaf certificate only, PEM. */
  certPem: string
  /** Lowercase hex SHA-256 of the certificate DER: the onboarding `keyid`. */
  fingerprint: string
  /** What the key actually is (`ec-p256`, `rsa-2048`, …), which for an existing key may differ from the configured type. */
  keyType: string
  alg: SignatureAlgorithm
  certNotAfter: Date
  /** Where the key and certificate are read from. */
  keyPath: string
  certPath: string
  /** True when this call created the key and certificate. */
  created: boolean
  /** Things worth a log line (weak file permissions, a configured key type that an existing key does not match). */
  warnings: string[]
}

export interface IdentityOptions {
  keyType: AgentKeyType
  /** Bring-your-own key and certificate, used in place; never copied. */
  keyFile?: string
  certFile?: string
  /** RFC 4514 subject for a generated certificate; by default CN=margo-agent-<hostname>, O=margo, serialNumber=<host id>. */
  subject?: string
  /** For tests: the host name and machine-id file used in the default subject. */
  hostname?: string
  machineIdPath?: string
}

export type IdentityErrorCode = 'unreadable' | 'mismatch' | 'unsupported_key' | 'incomplete' | 'corrupt'

/** The device identity cannot be used. Messages name files, never key material. */
export class IdentityError extends MargoError {
  readonly exitCode = 2

  constructor(message: string, code: IdentityErrorCode, cause?: unknown) {
    super(message, {code, cause})
  }
}

/** What identity.json holds: the clientId the WFM assigned, and what it was assigned to. */
export interface ClientIdRecord {
  clientId: string
  server: string
  /** Certificate fingerprint (hex) the clientId belongs to. */
  fingerprint: string
  /** ISO 8601. */
  onboardedAt: string
}

/**
 * Self-signed device certificates are the identity the WFM stores at onboarding, and G1 has no
 * rotation protocol; a short lifetime would strand unattended devices. Renewal is re-onboarding.
 */
const CERT_DAYS = 3650

const MARGO_ALGORITHMS: readonly string[] = ['ec-p256', 'ec-p384']
const MIN_RSA_BITS = 2048

function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex')
}

/**
 * A stable per-host id that does not reveal /etc/machine-id, which must not leave the host
 * as is: an application-specific keyed hash of it, as systemd recommends.
 */
export function hostIdFrom(machineId: string): string | undefined {
  const id = machineId.trim()
  if (!/^[0-9a-f]{32}$/i.test(id)) return undefined
  return createHmac('sha256', id.toLowerCase()).update('margo-agent').digest('hex').slice(0, 32)
}

function readMachineId(path: string): string | undefined {
  try {
    return hostIdFrom(readFileSync(path, 'utf8'))
  } catch {
    return undefined
  }
}

/** Host names only need letters, digits, dots and dashes; anything else would need DN escaping. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 48) || 'unknown'
}

export function defaultSubject(hostname: string, hostId?: string): string {
  // serialNumber (2.5.4.5) is written as its OID because the certificate library has no short name for it.
  return `CN=margo-agent-${safeName(hostname)}, O=margo${hostId ? `, 2.5.4.5=${hostId}` : ''}`
}

/** Signs and verifies a random probe: the only proof that a key and a certificate belong together. */
function keyMatchesCertificate(privateKey: KeyObject, certPublicKey: KeyObject, alg: SignatureAlgorithm): boolean {
  const probe = randomBytes(32)
  try {
    return verifyBytes(alg, certPublicKey, probe, signBytes(alg, privateKey, probe))
  } catch {
    return false
  }
}

/** Margo's mandatory algorithms only (P-256, P-384, RSA ≥ 2048), so any WFM can verify us. */
function checkKeyType(privateKey: KeyObject, where: string): {keyType: string, alg: SignatureAlgorithm} {
  const {keyType, bits} = describeKey(privateKey)
  const rsaOk = keyType.startsWith('rsa-') && !keyType.startsWith('rsa-pss-') && (bits ?? 0) >= MIN_RSA_BITS
  if (!MARGO_ALGORITHMS.includes(keyType) && !rsaOk) {
    throw new IdentityError(
      `the key in ${where} is ${keyType}; a Margo device key must be EC P-256, EC P-384 or RSA with at least ${MIN_RSA_BITS} bits`,
      'unsupported_key',
    )
  }
  return {keyType, alg: defaultAlgorithm(privateKey)}
}

function readFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code ?? 'unreadable'
    throw new IdentityError(`cannot read the ${what} ${path}: ${reason}`, 'unreadable', err)
  }
}

function readKey(path: string): KeyObject {
  const pem = readFile(path, 'private key')
  try {
    return loadPrivateKey(pem)
  } catch (err) {
    // loadPrivateKey's messages describe the format problem and never echo the key.
    throw new IdentityError(`cannot use the private key in ${path}: ${(err as Error).message}`, 'unreadable', err)
  }
}

function readCert(path: string): {pem: string, der: Uint8Array, publicKey: KeyObject, notAfter: Date} {
  const parsed = parseCertificate(readFile(path, 'certificate'))
  if (!parsed.ok) throw new IdentityError(`cannot use the certificate in ${path}: ${parsed.reason}`, 'unreadable')
  return {pem: parsed.pem, der: parsed.der, publicKey: parsed.cert.publicKey, notAfter: parsed.cert.validToDate}
}

function looseModeWarning(path: string): string | undefined {
  try {
    const mode = statSync(path).mode & 0o777
    if ((mode & 0o077) !== 0) return `the private key ${path} is readable by other users (mode ${mode.toString(8)}); restrict it with chmod 600`
  } catch { /* already read successfully; a stat failure is not worth failing over */ }
  return undefined
}

function assemble(privateKey: KeyObject, keyPath: string, certPath: string, created: boolean, warnings: string[]): Identity {
  const {keyType, alg} = checkKeyType(privateKey, keyPath)
  const cert = readCert(certPath)
  if (!keyMatchesCertificate(privateKey, cert.publicKey, alg)) {
    throw new IdentityError(
      `the private key ${keyPath} does not belong to the certificate ${certPath} — use the key the certificate was issued for`,
      'mismatch',
    )
  }
  const loose = looseModeWarning(keyPath)
  if (loose) warnings.push(loose)
  const daysLeft = (cert.notAfter.getTime() - Date.now()) / 86_400_000
  if (daysLeft < 0) warnings.push(`the certificate ${certPath} expired on ${cert.notAfter.toISOString()}; the fleet manager will refuse it — provide a new certificate and onboard again`)
  else if (daysLeft < 30) warnings.push(`the certificate ${certPath} expires on ${cert.notAfter.toISOString()}; renew it and onboard again before then`)
  return {privateKey, certPem: cert.pem, fingerprint: fingerprintOf(cert.der), keyType, alg, certNotAfter: cert.notAfter, keyPath, certPath, created, warnings}
}

/**
 * The device's signing identity. With `keyFile`/`certFile` those are used in place. Otherwise
 * `key.pem` (0600) and `cert.pem` in the state directory, created on first start: a fresh key
 * of `keyType` and a self-signed RFC 5280 certificate for it.
 */
export async function ensureIdentity(stateDir: string, options: IdentityOptions): Promise<Identity> {
  if (options.keyFile !== undefined || options.certFile !== undefined) {
    if (!options.keyFile || !options.certFile) {
      throw new IdentityError('a bring-your-own identity needs both the private key (--key) and its certificate (--cert)', 'incomplete')
    }
    return assemble(readKey(options.keyFile), options.keyFile, options.certFile, false, [])
  }

  const files = identityFiles(stateDir)
  const hasKey = existsSync(files.key)
  const hasCert = existsSync(files.cert)
  const warnings: string[] = []
  if (hasKey && hasCert) {
    const identity = assemble(readKey(files.key), files.key, files.cert, false, warnings)
    const wanted = {p256: 'ec-p256', p384: 'ec-p384', rsa2048: 'rsa-2048'}[options.keyType]
    if (identity.keyType !== wanted) {
      warnings.push(`the existing key ${files.key} is ${identity.keyType}, not the configured ${options.keyType}; it is kept because the fleet manager knows this device by it`)
    }
    return identity
  }
  if (hasCert && !hasKey) {
    throw new IdentityError(
      `${files.cert} exists but its private key ${files.key} is missing — restore key.pem, or delete cert.pem and identity.json to create a new identity (the device must then be onboarded again)`,
      'incomplete',
    )
  }

  let privateKey: KeyObject
  if (hasKey) {
    // A key without a certificate (a crash between the two writes): keep the key, issue its certificate.
    privateKey = readKey(files.key)
  } else {
    privateKey = generateKeyPair(options.keyType).privateKey
    writeSecretFile(files.key, privateKeyToPem(privateKey))
  }
  checkKeyType(privateKey, files.key)
  const subject = options.subject
    ?? defaultSubject(options.hostname ?? osHostname(), readMachineId(options.machineIdPath ?? '/etc/machine-id'))
  const certPem = await createSelfSignedDeviceCertificate({privateKey, publicKey: createPublicKey(privateKey), subject, days: CERT_DAYS})
  writeFileAtomic(files.cert, certPem, 0o644)
  return assemble(privateKey, files.key, files.cert, true, warnings)
}

const URL_SAFE_ID = /^[A-Za-z0-9._~!$&'()*+,;=:@-]{1,256}$/

function isClientIdRecord(value: unknown): value is ClientIdRecord {
  if (typeof value !== 'object' || value === null) return false
  const r = value as Record<string, unknown>
  return typeof r.clientId === 'string' && URL_SAFE_ID.test(r.clientId)
    && typeof r.server === 'string' && typeof r.fingerprint === 'string' && typeof r.onboardedAt === 'string'
}

/** The stored onboarding result, or null before the first successful onboarding. */
export function loadClientId(stateDir: string): ClientIdRecord | null {
  const path = identityFiles(stateDir).record
  let textContent: string
  try {
    textContent = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new IdentityError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'unreadable', err)
  }
  let doc: unknown
  try {
    doc = JSON.parse(textContent)
  } catch (err) {
    throw new IdentityError(`${path} is not valid JSON — delete it to onboard again (the fleet manager may then assign a new clientId)`, 'corrupt', err)
  }
  if (!isClientIdRecord(doc)) {
    throw new IdentityError(`${path} lacks clientId, server, fingerprint or onboardedAt — delete it to onboard again`, 'corrupt')
  }
  return {clientId: doc.clientId, server: doc.server, fingerprint: doc.fingerprint, onboardedAt: doc.onboardedAt}
}

/** Stores the onboarding result atomically, so a crash never leaves a half-written clientId. */
export function saveClientId(stateDir: string, record: ClientIdRecord): void {
  if (!URL_SAFE_ID.test(record.clientId)) throw new IdentityError(`refusing to store clientId ${JSON.stringify(record.clientId)}: it is not URL-safe`, 'corrupt')
  const body = {clientId: record.clientId, server: record.server, fingerprint: record.fingerprint, onboardedAt: record.onboardedAt}
  writeFileAtomic(identityFiles(stateDir).record, `${JSON.stringify(body, null, 2)}\n`, 0o600)
}

/**
 * The stored clientId if it was assigned by this server to this certificate; null when the
 * device must onboard (first start, another server, or a new certificate).
 */
export function clientIdFor(record: ClientIdRecord | null, current: {server: string, fingerprint: string}): string | null {
  if (!record) return null
  const sameServer = record.server.replace(/\/+$/, '') === current.server.replace(/\/+$/, '')
  return sameServer && record.fingerprint === current.fingerprint ? record.clientId : null
}
