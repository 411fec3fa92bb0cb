import {createHash, X509Certificate, type KeyObject} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createCertificateAuthority, issueServerCertificate, parseCertificate} from '../../../src/pki/index.ts'
import {checkContentDigest, verifyRequest, type DigestCheck, type VerifyResult} from '../../../src/signing/index.ts'

export function tempDir(prefix = 'margo-agent-'): {path: string, cleanup: () => void} {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return {path, cleanup: () => rmSync(path, {recursive: true, force: true})}
}

export interface RecordedRequest {
  method: string
  url: string
  path: string
  headers: Headers
  body: Uint8Array
  verify: VerifyResult | null
  digest: DigestCheck | null
  keyid: string | null
}

export interface WfmDouble {
  /** Root URL including the prefix, e.g. https://127.0.0.1:1234/v1alpha2/margo */
  base: string
  origin: string
  caPem: string
  caDerBase64: string
  caFingerprint: string
  requests: RecordedRequest[]
  /** Extra routes, tried before the built-in ones; return undefined to fall through. */
  routes: Array<(req: Request, path: string, body: Uint8Array) => Response | undefined>
  /** How the CA download answers. */
  caAnswer: 'base64-der' | 'base64-pem' | 'pem-json' | 'pem-text'
  clientId: string
  devicePublicKey: KeyObject | null
  stop: () => void
}

export const PREFIX = '/v1alpha2/margo'

let shared: {ca: {certPem: string, keyPem: string}, server: {certPem: string, keyPem: string}} | undefined

/** One CA and server certificate for the whole run: key generation is the slow part. */
export async function testPki() {
  if (!shared) {
    const ca = await createCertificateAuthority({commonName: 'margo test CA'})
    const server = await issueServerCertificate({caCertPem: ca.certPem, caKeyPem: ca.keyPem, sans: ['127.0.0.1'], commonName: 'wfm'})
    shared = {ca, server}
  }
  return shared
}

/**
 * A small fleet manager over real HTTPS on loopback that checks every request signature
 * with the project's verifier, using the key from the certificate sent at onboarding.
 */
export async function startWfm(opts: {caAnswer?: WfmDouble['caAnswer'], clientId?: string} = {}): Promise<WfmDouble> {
  const pki = await testPki()
  const caParsed = parseCertificate(pki.ca.certPem)
  if (!caParsed.ok) throw new Error(caParsed.reason)
  const double: Partial<WfmDouble> = {
    requests: [],
    routes: [],
    caAnswer: opts.caAnswer ?? 'base64-der',
    clientId: opts.clientId ?? 'c-0001',
    devicePublicKey: null,
    caPem: pki.ca.certPem,
    caDerBase64: Buffer.from(caParsed.der).toString('base64'),
    caFingerprint: `sha256:${createHash('sha256').update(caParsed.der).digest('hex')}`,
  }
  const d = double as WfmDouble
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    tls: {cert: pki.server.certPem, key: pki.server.keyPem},
    async fetch(req) {
      const url = new URL(req.url)
      const body = new Uint8Array(await req.arrayBuffer())
      // The API lives under the prefix only, as on the conformance fleet managers.
      if (!url.pathname.startsWith(`${PREFIX}/`)) return new Response('not found', {status: 404})
      const path = url.pathname.slice(PREFIX.length)
      const input = req.headers.get('signature-input')
      const keyid = input ? (/keyid="([^"]*)"/.exec(input)?.[1] ?? null) : null
      let key: KeyObject | null = d.devicePublicKey
      if (req.method === 'POST' && path === '/api/v1/onboarding') {
        try {
          const doc = JSON.parse(new TextDecoder().decode(body)) as {certificate: string}
          key = new X509Certificate(Buffer.from(doc.certificate, 'base64')).publicKey
          d.devicePublicKey = key
        } catch {
          key = null
        }
      }
      const recorded: RecordedRequest = {
        method: req.method, url: req.url, path, headers: req.headers, body, keyid,
        verify: key && input ? await verifyRequest({method: req.method, url: req.url, headers: req.headers, body}, {publicKey: key}) : null,
        digest: body.byteLength > 0 ? checkContentDigest(req.headers.get('content-digest'), body) : null,
      }
      d.requests.push(recorded)
      for (const route of d.routes) {
        const answer = route(req, path, body)
        if (answer) return answer
      }
      if (path === '/api/v1/onboarding/certificate') {
        switch (d.caAnswer) {
          case 'base64-der': return Response.json({certificate: d.caDerBase64})
          case 'base64-pem': return Response.json({certificate: Buffer.from(d.caPem).toString('base64')})
          case 'pem-json': return Response.json({certificate: d.caPem})
          case 'pem-text': return new Response(d.caPem, {headers: {'content-type': 'application/x-pem-file'}})
        }
      }
      if (recorded.verify?.ok !== true) return Response.json({error: 'Invalid signature', reason: recorded.verify}, {status: 401})
      if (recorded.digest !== null && recorded.digest !== 'ok') return Response.json({error: 'bad digest'}, {status: 400})
      if (path === '/api/v1/onboarding') return Response.json({clientId: d.clientId}, {status: 201})
      const own = `/api/v1/clients/${d.clientId}`
      if (path === `${own}/capabilities`) return new Response(null, {status: 201})
      if (path === `${own}/deployments`) {
        if (req.headers.get('if-none-match') === '"sha256:abc"') return new Response(null, {status: 304, headers: {etag: '"sha256:abc"'}})
        return new Response('{"manifestVersion":1}', {headers: {etag: '"sha256:abc"', 'content-type': 'application/vnd.margo.manifest.v1+json'}})
      }
      if (path.startsWith(`${own}/deployments/`) && path.endsWith('/status')) return Response.json({acknowledgement: 'received'})
      if (path.startsWith(`${own}/deployments/`) || path.startsWith(`${own}/bundles/`)) return new Response(`artifact ${path}`, {headers: {etag: '"x"'}})
      return new Response('not found', {status: 404})
    },
  })
  d.origin = `https://127.0.0.1:${server.port}`
  d.base = `${d.origin}${PREFIX}`
  d.stop = () => server.stop(true)
  return d
}
