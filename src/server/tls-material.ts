import {X509Certificate} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {certificateFingerprint, createCertificateAuthority, issueServerCertificate} from '../pki/index.ts'
import {dataDirFiles} from '../config/paths.ts'
import {UsageError} from '../util/errors.ts'
import {writeFileAtomic, writeSecretFile} from '../util/fs.ts'

export interface TlsMaterial {
  certPem: string
  keyPem: string
  /** The root CA published at GET /api/v1/onboarding/certificate. */
  caPem: string
  caFile: string
  generated: boolean
}

/** TLS flags that do not fit together or name unreadable files. */
export class TlsSetupError extends UsageError {}

/**
 * What an agent pins with `--ca-fingerprint`: `sha256:<hex>` of the DER of the root CA (the
 * first certificate of the published PEM), exactly as the agent computes it on download.
 */
export function caFingerprint(caPem: string): string {
  return certificateFingerprint(new Uint8Array(new X509Certificate(caPem).raw))
}

/** Names a server certificate must carry so devices and the local CLI can verify it. */
export function defaultSans(extra: string[] = []): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', hostname(), ...extra].filter(Boolean))]
}

function coversAll(certPem: string, sans: string[]): boolean {
  const cert = new X509Certificate(certPem)
  return sans.every(name => (/^[\d.]+$|:/.test(name) ? cert.checkIP(name) : cert.checkHost(name)) !== undefined)
}

/**
 * TLS material for `margo serve`. Bring-your-own files are used as given; otherwise a root CA
 * is created once in the data dir and a server certificate is issued from it, and issued again
 * whenever the wanted names are not all covered (a new --san) or it expires within 30 days.
 */
export async function ensureTlsMaterial(dataDir: string, opts: {sans: string[], tlsCert?: string, tlsKey?: string, caCert?: string}): Promise<TlsMaterial> {
  if (opts.tlsCert || opts.tlsKey) {
    if (!opts.tlsCert || !opts.tlsKey) throw new TlsSetupError('--tls-cert and --tls-key go together: give both, or neither to use the generated certificates')
    const read = (file: string, flag: string) => {
      try { return readFileSync(file, 'utf8') } catch { throw new TlsSetupError(`cannot read ${flag} ${file}`) }
    }
    const certPem = read(opts.tlsCert, '--tls-cert')
    const keyPem = read(opts.tlsKey, '--tls-key')
    const caFile = opts.caCert ?? opts.tlsCert
    return {certPem, keyPem, caPem: opts.caCert ? read(opts.caCert, '--ca-cert') : certPem, caFile, generated: false}
  }
  const files = dataDirFiles(dataDir)
  let generated = false
  if (!existsSync(files.caCert) || !existsSync(files.caKey)) {
    const ca = await createCertificateAuthority({commonName: `margo root CA (${hostname()})`})
    writeSecretFile(files.caKey, ca.keyPem)
    writeFileAtomic(files.caCert, ca.certPem)
    generated = true
  }
  const caPem = readFileSync(files.caCert, 'utf8')
  const caKeyPem = readFileSync(files.caKey, 'utf8')
  const fresh = existsSync(files.serverCert) && existsSync(files.serverKey)
    && coversAll(readFileSync(files.serverCert, 'utf8'), opts.sans)
    && Date.parse(new X509Certificate(readFileSync(files.serverCert, 'utf8')).validTo) > Date.now() + 30 * 86400_000
    && new X509Certificate(readFileSync(files.serverCert, 'utf8')).checkIssued(new X509Certificate(caPem))
  if (!fresh) {
    const server = await issueServerCertificate({caCertPem: caPem, caKeyPem, sans: opts.sans, commonName: opts.sans.find(s => !/^[\d.]+$|:/.test(s)) ?? 'localhost'})
    writeSecretFile(files.serverKey, server.keyPem)
    writeFileAtomic(files.serverCert, server.certPem)
    generated = true
  }
  return {certPem: readFileSync(files.serverCert, 'utf8'), keyPem: readFileSync(files.serverKey, 'utf8'), caPem, caFile: files.caCert, generated}
}
