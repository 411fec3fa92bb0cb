import {existsSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {Elysia} from 'elysia'
import {parseCertificate} from '../../pki/index.ts'
import installScript from '../../../deploy/install-agent.sh' with {type: 'text'}
import agentUnit from '../../../deploy/margo-agent.service' with {type: 'text'}

export const DOWNLOADS_PREFIX = '/downloads'

/** The executables `bun run release` writes: margo-<version>-linux-<arch>[-musl]. */
const RELEASE_FILE = /^margo-[0-9A-Za-z.+_-]+-linux-(x64|arm64)(-musl)?$/

export interface DownloadsOptions {
  /** Directory holding the release executables and SHA256SUMS; undefined: none configured. */
  releaseDir?: string
  caCertificatePem: string
}

const text = (body: string, status = 200, type = 'text/plain; charset=utf-8') => new Response(body, {status, headers: {'content-type': type}})

/**
 * What a device needs to install the agent, served without authentication (nothing here is
 * secret) beside the Margo device interface: the install script, the systemd unit, the root CA
 * as DER (the enroll command checks its SHA-256 before trusting anything else), SHA256SUMS and
 * the executables of the configured release directory.
 */
export function downloadRoutes(opts: DownloadsOptions) {
  const ca = parseCertificate(opts.caCertificatePem)
  const noRelease = () => text(opts.releaseDir
    ? `no margo release in ${opts.releaseDir}: run "bun run release" there, or start margo serve with --release-dir pointing at one\n`
    : 'margo serve has no release directory: start it with --release-dir DIR (the output of "bun run release")\n', 404)
  return new Elysia({name: 'margo-downloads', prefix: DOWNLOADS_PREFIX})
    .get('/install.sh', () => text(installScript, 200, 'text/x-shellscript; charset=utf-8'))
    .get('/margo-agent.service', () => text(agentUnit))
    .get('/ca.der', () => ca.ok ? new Response(ca.der, {headers: {'content-type': 'application/pkix-cert'}}) : text('the CA cannot be read\n', 500))
    .get('/SHA256SUMS', () => {
      const file = opts.releaseDir && join(opts.releaseDir, 'SHA256SUMS')
      return file && existsSync(file) ? text(readFileSync(file, 'utf8')) : noRelease()
    })
    .get('/:file', ({params}) => {
      if (!RELEASE_FILE.test(params.file)) return text(`no such download: ${params.file}\n`, 404)
      const file = opts.releaseDir && join(opts.releaseDir, params.file)
      if (!file || !existsSync(file) || !statSync(file).isFile()) return noRelease()
      return new Response(Bun.file(file), {headers: {'content-type': 'application/octet-stream'}})
    })
}
